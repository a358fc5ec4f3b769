"""The gate in front of every ``/v1`` route: a valid SigV4 signature (else 403) from an
allowed caller, then a valid user token in ``X-User-Authorization`` (else 401)."""

from __future__ import annotations

from datetime import datetime

from fastapi import Request

from bnpl_common.clock import Clock, SystemClock
from bnpl_common.jwt import CognitoJwtVerifier, Principal, bearer_token
from bnpl_common.sigv4 import verify_sigv4

USER_TOKEN_HEADER = "X-User-Authorization"  # noqa: S105 - a header name


class ServiceAuthenticator:
    """FastAPI dependency: returns the user's :class:`Principal` or raises 403/401."""

    def __init__(
        self,
        *,
        secrets: dict[str, str],
        service: str,
        verifier: CognitoJwtVerifier,
        clock: Clock | None = None,
        max_skew_seconds: int = 300,
    ) -> None:
        self._secrets = dict(secrets)
        self._service = service
        self._verifier = verifier
        self._clock = clock or SystemClock()
        self._skew = max_skew_seconds

    def _now(self) -> datetime:
        return self._clock.now()

    async def __call__(self, request: Request) -> Principal:
        body = await request.body()
        host = request.headers.get("host", "")
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        url = f"http://{host}{raw_path.decode('latin-1')}"
        query = request.scope.get("query_string", b"")
        if query:
            url += "?" + query.decode("latin-1")
        verify_sigv4(
            method=request.method,
            url=url,
            headers=dict(request.headers),
            body=body,
            secrets=self._secrets,
            service=self._service,
            now=self._now(),
            max_skew_seconds=self._skew,
        )
        return await self._verifier.verify(bearer_token(request.headers.get(USER_TOKEN_HEADER)))
