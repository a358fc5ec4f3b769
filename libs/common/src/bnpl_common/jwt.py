"""Cognito access-token verification with PyJWT.

RS256 only; the ``kid`` is looked up in a cached JWKS that is refetched on an unknown
``kid`` at most once per ``refetch_interval`` seconds; ``iss``, ``exp``,
``token_use == "access"`` and ``client_id`` are checked.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from jwt import PyJWK

from bnpl_common.errors import Unauthorized

JwksFetcher = Callable[[], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Principal:
    """The verified caller: ``sub`` decides whose data is touched."""

    sub: str
    username: str
    client_id: str
    token: str
    groups: tuple[str, ...] = ()


def http_jwks_fetcher(client: httpx.AsyncClient, url: str) -> JwksFetcher:
    """Fetch a JWKS document over HTTP with the given (shared) client."""

    async def fetch() -> dict[str, Any]:
        response = await client.get(url)
        response.raise_for_status()
        document = response.json()
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise ValueError("JWKS document has no keys")
        return document

    return fetch


class CognitoJwtVerifier:
    """Verifies Cognito access tokens; safe to share across concurrent requests."""

    def __init__(
        self,
        *,
        issuer: str,
        client_ids: list[str] | tuple[str, ...],
        fetch_jwks: JwksFetcher,
        refetch_interval: float = 10.0,
        leeway: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
        cache_seconds: float = 300.0,
        cache_entries: int = 50_000,
    ) -> None:
        if not client_ids:
            raise ValueError("at least one allowed client id is required")
        self.issuer = issuer
        self.client_ids = frozenset(client_ids)
        self._fetch = fetch_jwks
        self._interval = refetch_interval
        self._leeway = leeway
        self._monotonic = monotonic
        self._keys: dict[str, PyJWK] = {}
        self._last_fetch: float | None = None
        self._lock = asyncio.Lock()
        self.fetch_count = 0
        # Tokens already verified: token -> (principal, honoured until (epoch seconds), kept
        # until (monotonic)). A shopper's token comes with every call of a session, and each
        # service on the way checks it; the signature check and the claims cost about 0.2 ms
        # a time. An entry is honoured until the token's own ``exp`` (re-checked on every hit)
        # and kept at most ``cache_seconds``, so a signing key withdrawn from the JWKS stops
        # being honoured within that time. Refusals are never kept: they are checked afresh.
        self._verified: OrderedDict[str, tuple[Principal, float, float]] = OrderedDict()
        self._cache_seconds = cache_seconds
        self._cache_entries = cache_entries

    async def _refresh(self) -> None:
        async with self._lock:
            now = self._monotonic()
            if self._last_fetch is not None and now - self._last_fetch < self._interval:
                return
            self._last_fetch = now
            self.fetch_count += 1
            document = await self._fetch()
            keys: dict[str, PyJWK] = {}
            for jwk in document["keys"]:
                if jwk.get("kty") != "RSA" or "kid" not in jwk:
                    continue
                keys[jwk["kid"]] = PyJWK(jwk, algorithm="RS256")
            self._keys = keys

    async def _key_for(self, kid: str) -> PyJWK:
        if kid not in self._keys:
            try:
                await self._refresh()
            except Exception as exc:  # JWKS unreachable: nobody gets in
                raise Unauthorized("token signing keys unavailable") from exc
        key = self._keys.get(kid)
        if key is None:
            raise Unauthorized("token signed with an unknown key")
        return key

    async def ready(self) -> bool:
        """Can tokens be verified now? Keys in hand, or fetched now (at most once per refetch
        interval): a process that cannot reach the JWKS and has no keys turns every caller away."""
        if self._keys:
            return True
        try:
            await self._refresh()
        except Exception:  # readiness: any failure is "not ready"
            return False
        return bool(self._keys)

    async def verify(self, token: str) -> Principal:
        """Return the principal of a valid access token or raise :class:`Unauthorized`."""
        if not token:
            raise Unauthorized("missing token")
        kept = self._verified.get(token)
        if kept is not None:
            principal, expires_at, kept_until = kept
            if time.time() <= expires_at and self._monotonic() < kept_until:
                return principal
            del self._verified[token]
        principal, expires_at = await self._verify(token)
        if self._cache_seconds > 0:
            self._verified[token] = (principal, expires_at, self._monotonic() + self._cache_seconds)
            while len(self._verified) > self._cache_entries:
                self._verified.popitem(last=False)
        return principal

    async def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("malformed token") from exc
        if header.get("alg") != "RS256":
            raise Unauthorized("token algorithm not allowed")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise Unauthorized("token has no key id")
        key = await self._key_for(kid)
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                issuer=self.issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iss", "sub", "token_use"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("token expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("invalid token") from exc
        if claims.get("token_use") != "access":
            raise Unauthorized("not an access token")
        client_id = claims.get("client_id")
        if client_id not in self.client_ids:
            raise Unauthorized("token issued to an unknown client")
        groups = claims.get("cognito:groups") or []
        principal = Principal(
            sub=str(claims["sub"]),
            username=str(claims.get("username", claims["sub"])),
            client_id=str(client_id),
            token=token,
            groups=tuple(str(g) for g in groups),
        )
        return principal, float(claims["exp"]) + self._leeway


def bearer_token(header_value: str | None) -> str:
    """Accept ``<jwt>`` or ``Bearer <jwt>``, as AppSync does."""
    if not header_value:
        return ""
    value = header_value.strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    return value
