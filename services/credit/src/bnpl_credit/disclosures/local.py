"""Documents in a local folder (``.data/documents/`` in ``make run``), with signed download links.

A link is ``<base>/documents/<key>?expires=<unix seconds>&signature=<HMAC-SHA256>``: like an S3
presigned URL it is its own credential, so the route that serves it (the credit service's,
reached through the gateway) checks the signature and the expiry with :func:`verify_link` and
nothing else. Changing the key, the expiry or the signature by one character refuses the link.

Writes are create-only: the bytes go to a temporary file that is then hard-linked to the
document's path, which fails if the path exists, so two racing writers cannot both "create"
a document and no reader ever sees a half-written one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

from bnpl_common.aio import run_blocking
from bnpl_common.clock import Clock

from bnpl_credit.disclosures.store import (
    MAX_LINK_TTL,
    DocumentConflict,
    DocumentLink,
    DocumentNotFound,
    StoredDocument,
    check_key,
    check_ttl,
    content_type_of,
    sha256_hex,
)

LINK_PATH = "/documents/"


class LinkRefused(Exception):
    """A download link that is malformed, tampered with or expired. The reason is for logs; the
    route answers 403 without it."""


def _signature(link_key: bytes, key: str, expires: int) -> str:
    mac = hmac.new(link_key, f"GET\n{key}\n{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def verify_link(link_key: bytes, *, key: str, expires: str, signature: str, now: datetime) -> str:
    """The document key a link grants, once its signature and expiry hold; else :class:`LinkRefused`."""
    if not expires.isdigit() or len(expires) > 12:
        raise LinkRefused("malformed expiry")
    expires_at = int(expires)
    expected = _signature(link_key, key, expires_at)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise LinkRefused("bad signature")
    if now.timestamp() >= expires_at:
        raise LinkRefused("expired")
    if expires_at - now.timestamp() > MAX_LINK_TTL.total_seconds():
        raise LinkRefused("expiry beyond the longest link lifetime")
    return check_key(key)


class LocalDocumentStore:
    """The document store port over a folder; links signed with ``link_key``."""

    def __init__(self, root: Path, *, link_key: bytes, clock: Clock, base_url: str = "") -> None:
        if len(link_key) < 16:
            raise ValueError("the document link key must be at least 16 bytes")
        self._root = root
        self._link_key = link_key
        self._clock = clock
        self._base_url = base_url.rstrip("/")

    def _path(self, key: str) -> Path:
        return self._root.joinpath(*check_key(key).split("/"))

    async def put(self, key: str, content: bytes) -> StoredDocument:
        return await run_blocking(self._put, key, content)

    def _put(self, key: str, content: bytes) -> StoredDocument:
        record = StoredDocument(key, sha256_hex(content), len(content), content_type_of(key))
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o444)
            try:
                os.link(temporary, path)
            except FileExistsError:
                existing = path.read_bytes()
                if sha256_hex(existing) != record.sha256:
                    raise DocumentConflict(key) from None
        finally:
            os.unlink(temporary)
        return record

    async def get(self, key: str) -> tuple[StoredDocument, bytes]:
        return await run_blocking(self._get, key)

    def _get(self, key: str) -> tuple[StoredDocument, bytes]:
        try:
            content = self._path(key).read_bytes()
        except FileNotFoundError:
            raise DocumentNotFound(key) from None
        return StoredDocument(key, sha256_hex(content), len(content), content_type_of(key)), content

    async def head(self, key: str) -> StoredDocument | None:
        try:
            record, _ = await self.get(key)
        except DocumentNotFound:
            return None
        return record

    async def link(self, key: str, *, expires_in: timedelta) -> DocumentLink:
        check_ttl(expires_in)
        if await self.head(key) is None:
            raise DocumentNotFound(key)
        # whole seconds, rounded up: a link never lives shorter than asked
        expires = math.ceil((self._clock.now() + expires_in).timestamp())
        query = f"expires={expires}&signature={_signature(self._link_key, key, expires)}"
        url = f"{self._base_url}{LINK_PATH}{quote(key)}?{query}"
        return DocumentLink(url=url, expires_at=datetime.fromtimestamp(expires, UTC))

    async def open_link(self, url: str) -> tuple[StoredDocument, bytes]:
        """What the download route does: verify the link, then read the document it grants."""
        parts = urlsplit(url)
        if not parts.path.startswith(LINK_PATH):
            raise LinkRefused("not a document link")
        query = parse_qs(parts.query)
        expires, signature = query.get("expires", [""])[0], query.get("signature", [""])[0]
        key = verify_link(
            self._link_key,
            key=unquote(parts.path[len(LINK_PATH) :]),
            expires=expires,
            signature=signature,
            now=self._clock.now(),
        )
        return await self.get(key)

    async def open_signed(self, key: str, *, expires: str, signature: str) -> tuple[StoredDocument, bytes]:
        """The download route's check and read, from the link's parts (key, expiry, signature)."""
        granted = verify_link(self._link_key, key=key, expires=expires, signature=signature, now=self._clock.now())
        return await self.get(granted)

    async def ping(self) -> bool:
        return await run_blocking(lambda: self._root.is_dir() or not self._root.exists())
