"""SigV4: sign outgoing service calls (botocore) and verify incoming ones.

Outgoing: :class:`SigV4Signer` signs the method, path, query, a fixed set of headers (host,
date, content type, the forwarded user token, the idempotency key, the request id, a fresh
nonce) and the body of a request about to be sent (``bnpl_common.internal_http``);
:class:`SigV4Auth` does the same as an ``httpx.Auth``.

The nonce (``X-Bnpl-Nonce``, random, one per signed request) is what makes a signed request
usable once: SigV4 alone accepts the same signed bytes again for as long as the date is within
the skew, and a receiver that remembers the nonces it accepted (``bnpl_common.nonce``) refuses
the copy.

Incoming: :func:`verify_sigv4` recomputes the signature against the secret of the calling key
id (locally from ``SERVICE_AUTH_KEYS``).

Both sides build the canonical request with :func:`canonical_request`, the same steps as
botocore's ``SigV4Auth`` (its path normalisation, query ordering, header trimming and
excluded headers; a test checks every kind of request we send against botocore, both ways):
botocore's own code built an ``AWSRequest``, parsed the URL twice and derived the signing key
with four HMACs on every call, about 0.5 ms a side. The derived key depends only on the
secret, the date and the scope, so it is kept (:func:`signing_key`, one per day and scope).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Generator, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from hashlib import sha256
from secrets import token_urlsafe
from urllib.parse import quote, urlsplit

import httpx
from botocore.auth import SIGNED_HEADERS_BLACKLIST
from botocore.credentials import Credentials, ReadOnlyCredentials
from botocore.utils import normalize_url_path

from bnpl_common.errors import Forbidden

NONCE_HEADER = "X-Bnpl-Nonce"
# Headers the signer covers when present. Hop-by-hop and client-chosen headers
# (connection, accept-encoding, user-agent, content-length) are left out on purpose:
# proxies may rewrite them.
SIGNED_HEADERS = (
    "host",
    "content-type",
    "x-user-authorization",
    "idempotency-key",
    "x-request-id",
    "x-bnpl-nonce",
)
_AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/\s]+)/(?P<date>\d{8})/(?P<region>[^/\s]+)/"
    r"(?P<service>[^/\s]+)/aws4_request, ?SignedHeaders=(?P<signed>[a-z0-9;-]+), ?Signature=(?P<sig>[0-9a-f]{64})$"
)
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
_NOT_SIGNED = frozenset(SIGNED_HEADERS_BLACKLIST)
ALGORITHM = "AWS4-HMAC-SHA256"


def canonical_request(method: str, url: str, headers: Mapping[str, str], payload_hash: str) -> tuple[str, str]:
    """SigV4's canonical request and its signed header list, as botocore builds them.

    ``headers``: the headers to sign, names lower-cased (``host`` among them); the names
    botocore never signs (``connection``, ``user-agent``...) are left out as it leaves them.
    """
    parts = urlsplit(url)
    path = quote(normalize_url_path(parts.path), safe="/~")
    query = ""
    if parts.query:
        pairs = sorted(pair.partition("=")[::2] for pair in parts.query.split("&"))
        query = "&".join(f"{key}={value}" for key, value in pairs)
    names = sorted({name for name in headers if name not in _NOT_SIGNED})
    canonical_headers = "".join(f"{name}:{' '.join(headers[name].split())}\n" for name in names)
    signed = ";".join(names)
    return "\n".join((method.upper(), path, query, canonical_headers, signed, payload_hash)), signed


@lru_cache(maxsize=64)
def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """The derived SigV4 key of one day and scope (kept: it changes once a day)."""
    key = hmac.new(f"AWS4{secret}".encode(), date.encode(), sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), sha256).digest()
    return key


def signature(secret: str, *, amz_date: str, region: str, service: str, canonical: str) -> str:
    """The hex signature of a canonical request signed at ``amz_date`` (``YYYYMMDDTHHMMSSZ``)."""
    date = amz_date[:8]
    string_to_sign = "\n".join(
        (
            ALGORITHM,
            amz_date,
            f"{date}/{region}/{service}/aws4_request",
            sha256(canonical.encode("utf-8")).hexdigest(),
        )
    )
    return hmac.new(signing_key(secret, date, region, service), string_to_sign.encode("utf-8"), sha256).hexdigest()


class SigV4Signer:
    """Signs one request's method, URL, headers and body with SigV4; the credentials come from a
    botocore provider (refreshed by it). The headers are signed as given: the caller sends the
    URL, the headers and the body exactly as signed."""

    def __init__(
        self, credentials: Credentials | ReadOnlyCredentials, *, region: str, service: str = "execute-api"
    ) -> None:
        self._credentials = credentials
        self._region = region
        self._service = service

    def _frozen(self) -> ReadOnlyCredentials:
        creds = self._credentials
        return creds.get_frozen_credentials() if isinstance(creds, Credentials) else creds

    def sign(self, method: str, url: str, headers: MutableMapping[str, str], body: bytes) -> None:
        """Add ``X-Amz-Date``, a nonce (unless one is set), the session token if any, and
        ``Authorization`` to ``headers``; ``headers`` must hold ``Host`` as it will be sent."""
        frozen = self._frozen()
        if frozen.access_key is None or frozen.secret_key is None:
            raise ValueError("the AWS credentials have no access key or no secret key")
        if NONCE_HEADER not in headers:
            headers[NONCE_HEADER] = token_urlsafe(18)
        amz_date = datetime.now(UTC).strftime(_AMZ_DATE)
        present = {name.lower(): value for name, value in headers.items()}
        signed_headers = {name: present[name] for name in SIGNED_HEADERS if name in present}
        signed_headers["x-amz-date"] = amz_date
        headers["X-Amz-Date"] = amz_date
        if frozen.token:
            signed_headers["x-amz-security-token"] = frozen.token
            headers["X-Amz-Security-Token"] = frozen.token
        canonical, signed = canonical_request(method, url, signed_headers, sha256(body).hexdigest())
        sig = signature(
            frozen.secret_key, amz_date=amz_date, region=self._region, service=self._service, canonical=canonical
        )
        headers["Authorization"] = (
            f"{ALGORITHM} Credential={frozen.access_key}/{amz_date[:8]}/{self._region}/{self._service}/aws4_request, "
            f"SignedHeaders={signed}, Signature={sig}"
        )


class SigV4Auth(httpx.Auth):
    """Sign each httpx request with SigV4 (:class:`SigV4Signer`)."""

    requires_request_body = True

    def __init__(
        self, credentials: Credentials | ReadOnlyCredentials, *, region: str, service: str = "execute-api"
    ) -> None:
        self.signer = SigV4Signer(credentials, region=region, service=service)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.signer.sign(request.method, str(request.url), request.headers, request.content)
        yield request


@dataclass(frozen=True, slots=True)
class SignedCaller:
    """Who signed the request: the access key id and the scope it signed for."""

    access_key_id: str
    region: str
    service: str
    signed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SignatureHeader:
    """An Authorization header that passed every check not needing the body (see
    :func:`check_signature_header`); :func:`verify_signed_body` finishes the job."""

    key_id: str
    secret: str
    date: str
    region: str
    service: str
    signed_names: tuple[str, ...]
    signature: str
    amz_date: str


def check_signature_header(
    headers: Mapping[str, str],
    *,
    secrets: Mapping[str, str],
    service: str,
    now: datetime | None = None,
    max_skew_seconds: int = 300,
) -> SignatureHeader:
    """Every check of a SigV4 request that needs no body: the Authorization header's form, an
    allowed key id, the service scope, the date and its skew, the signed header list.

    Run it before reading the body, so an unsigned or wrongly signed request is refused
    without the service buffering what it sends. ``headers`` as in :func:`verify_sigv4`.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    match = _AUTH_RE.match(lower.get("authorization", "").strip())
    if match is None:
        raise Forbidden("missing or malformed SigV4 signature")
    key_id = match["key"]
    secret = secrets.get(key_id)
    if secret is None:
        raise Forbidden("caller not allowed")
    if match["service"] != service:
        raise Forbidden("signature scoped to another service")
    amz_date = lower.get("x-amz-date", "")
    try:
        signed_at = datetime.strptime(amz_date, _AMZ_DATE).replace(tzinfo=UTC)
    except ValueError as exc:
        raise Forbidden("missing or malformed X-Amz-Date") from exc
    if amz_date[:8] != match["date"]:
        raise Forbidden("credential scope date does not match X-Amz-Date")
    current = now or datetime.now(UTC)
    if abs((current - signed_at).total_seconds()) > max_skew_seconds:
        raise Forbidden("signature expired or from the future")
    signed_names = tuple(match["signed"].split(";"))
    if "host" not in signed_names or "x-amz-date" not in signed_names:
        raise Forbidden("host and x-amz-date must be signed")
    if any(name not in lower for name in signed_names):
        raise Forbidden("a signed header is missing")
    # Sensitive headers must be covered by the signature when they are present.
    for name in ("x-user-authorization", "idempotency-key", "x-bnpl-nonce"):
        if name in lower and name not in signed_names:
            raise Forbidden(f"{name} must be signed")
    return SignatureHeader(
        key_id=key_id,
        secret=secret,
        date=match["date"],
        region=match["region"],
        service=match["service"],
        signed_names=signed_names,
        signature=match["sig"],
        amz_date=amz_date,
    )


def verify_signed_body(
    checked: SignatureHeader, *, method: str, url: str, headers: Mapping[str, str], body: bytes
) -> SignedCaller:
    """Recompute the signature of a request whose header passed :func:`check_signature_header`;
    raise :class:`Forbidden` unless it matches."""
    lower = {k.lower(): v for k, v in headers.items()}
    names = checked.signed_names
    payload_hash = sha256(body).hexdigest()
    if "x-amz-content-sha256" in names and lower["x-amz-content-sha256"] != payload_hash:
        raise Forbidden("payload hash does not match the body")
    canonical, _ = canonical_request(method, url, {name: lower[name] for name in names}, payload_hash)
    expected = signature(
        checked.secret, amz_date=checked.amz_date, region=checked.region, service=checked.service, canonical=canonical
    )
    if not hmac.compare_digest(expected, checked.signature):
        raise Forbidden("signature does not match")
    return SignedCaller(
        access_key_id=checked.key_id,
        region=checked.region,
        service=checked.service,
        signed_at=datetime.strptime(checked.amz_date, _AMZ_DATE).replace(tzinfo=UTC),
    )


def verify_sigv4(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    secrets: Mapping[str, str],
    service: str,
    now: datetime | None = None,
    max_skew_seconds: int = 300,
) -> SignedCaller:
    """Check a SigV4 signature; raise :class:`Forbidden` (403) unless it is valid.

    ``headers`` must be case-insensitive or lower-cased; ``url`` is the URL as the
    caller addressed it (scheme, host header, raw path and query).
    """
    checked = check_signature_header(
        headers, secrets=secrets, service=service, now=now, max_skew_seconds=max_skew_seconds
    )
    return verify_signed_body(checked, method=method, url=url, headers=headers, body=body)
