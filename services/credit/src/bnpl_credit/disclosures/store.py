"""The document store port: immutable documents by key, and time-limited links to download them.

A stored document is evidence (what the shopper was shown and accepted, what a declined
applicant was told), so it never changes: a second ``put`` of a key with the same bytes is a
no-op that returns the first record, with different bytes it is refused. Adapters: a local
folder with HMAC-signed links (:mod:`.local`) and S3 with presigned URLs (:mod:`.s3`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

# Keys are paths of plain segments ("plans/<id>/pre-contract.pdf"): safe as a file path and an
# S3 key alike, and with no "..", so a key can never leave the store's folder.
_SEGMENT = r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}"
KEY_PATTERN = re.compile(rf"^{_SEGMENT}(/{_SEGMENT}){{0,7}}$")
CONTENT_TYPES = {".pdf": "application/pdf", ".html": "text/html; charset=utf-8"}
MAX_LINK_TTL = timedelta(days=7)  # S3's own ceiling for a SigV4 presigned URL


class DocumentConflict(Exception):
    """A document already exists under this key with other content."""

    def __init__(self, key: str) -> None:
        super().__init__(f"document {key!r} is already stored with other content")
        self.key = key


class DocumentNotFound(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(f"no document {key!r}")
        self.key = key


@dataclass(frozen=True, slots=True)
class StoredDocument:
    key: str
    sha256: str  # hex SHA-256 of the bytes: the content hash kept with the plan
    size: int
    content_type: str


@dataclass(frozen=True, slots=True)
class DocumentLink:
    url: str
    expires_at: datetime


def content_type_of(key: str) -> str:
    """The content type a key's extension names; only the document forms are storable."""
    check_key(key)
    for extension, content_type in CONTENT_TYPES.items():
        if key.endswith(extension):
            return content_type
    raise ValueError(f"document key {key!r} must end in one of {', '.join(CONTENT_TYPES)}")


def check_key(key: str) -> str:
    if not KEY_PATTERN.fullmatch(key) or ".." in key:
        raise ValueError(f"invalid document key {key!r}: path segments of letters, digits, '.', '_' and '-'")
    return key


def check_ttl(expires_in: timedelta) -> None:
    if not timedelta(seconds=1) <= expires_in <= MAX_LINK_TTL:
        raise ValueError("a download link lives between one second and seven days")


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def document_key(subject: str, name: str, extension: str) -> str:
    """The key of one document of a plan or an application: ``<subject>/<name>.<extension>``,
    e.g. ``document_key("plans/p_123", "pre-contract", "pdf")``."""
    return check_key(f"{subject}/{name}.{extension}")


class DocumentStore(Protocol):
    async def put(self, key: str, content: bytes) -> StoredDocument:
        """Stores ``content`` under ``key`` once; the same bytes again return the same record,
        other bytes raise :class:`DocumentConflict`."""
        ...

    async def get(self, key: str) -> tuple[StoredDocument, bytes]:
        """The record and the bytes; :class:`DocumentNotFound` if absent."""
        ...

    async def head(self, key: str) -> StoredDocument | None: ...

    async def link(self, key: str, *, expires_in: timedelta) -> DocumentLink:
        """A download link valid for ``expires_in``; :class:`DocumentNotFound` if absent."""
        ...

    async def ping(self) -> bool: ...
