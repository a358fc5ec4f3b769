"""The gate in front of every ``/v1`` route: a valid SigV4 signature (else 403) from an
allowed caller, carrying a signed nonce not seen before (else 403: a replay), then a valid user
token in ``X-User-Authorization`` (else 401).

Two ways to check the caller, chosen by ``SERVICE_AUTH_MODE``:

- ``sigv4``: the signature is verified here against the configured key pairs.
- ``apigateway-iam``: API Gateway's IAM authorization verified the signature of the caller's
  role and passes the caller's ARN in ``X-Bnpl-Caller-Arn`` (a header it overwrites); only
  the configured role ARNs are accepted.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Literal

from fastapi import Request

from bnpl_common.clock import Clock, SystemClock
from bnpl_common.errors import Forbidden
from bnpl_common.jwt import Principal, bearer_token
from bnpl_common.nonce import NonceCache
from bnpl_common.settings import CommonSettings
from bnpl_common.sigv4 import NONCE_HEADER, SignedCaller, check_signature_header, verify_signed_body
from bnpl_common.staff_pool import TokenVerifier

USER_TOKEN_HEADER = "X-User-Authorization"  # noqa: S105 - a header name
CALLER_ARN_HEADER = "X-Bnpl-Caller-Arn"
_ASSUMED_ROLE = re.compile(
    r"^arn:(?P<part>aws[\w-]*):sts::(?P<account>\d{12}):assumed-role/(?P<role>[\w+=,.@-]+)/[^/]+$"
)


def role_arn_of(caller_arn: str) -> str:
    """The IAM role ARN behind an STS assumed-role ARN (task roles sign as assumed roles)."""
    match = _ASSUMED_ROLE.match(caller_arn)
    if match is None:
        return caller_arn
    return f"arn:{match['part']}:iam::{match['account']}:role/{match['role']}"


async def verify_request_signature(
    request: Request, *, secrets: dict[str, str], service: str, now: datetime, max_skew_seconds: int = 300
) -> SignedCaller:
    """Verify the SigV4 signature of an incoming request against ``secrets`` (key id to secret).

    The URL is rebuilt as the caller signed it: the ``Host`` header and the raw path and
    query, undecoded. Raises :class:`~bnpl_common.errors.Forbidden` on any mismatch. The
    header, key id, scope and date are checked before the body is read: an unsigned or
    wrongly signed request is refused without buffering its body.
    """
    headers = dict(request.headers)
    checked = check_signature_header(
        headers, secrets=secrets, service=service, now=now, max_skew_seconds=max_skew_seconds
    )
    body = await request.body()
    host = request.headers.get("host", "")
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    url = f"http://{host}{raw_path.decode('latin-1')}"
    query = request.scope.get("query_string", b"")
    if query:
        url += "?" + query.decode("latin-1")
    return verify_signed_body(checked, method=request.method, url=url, headers=headers, body=body)


class ServiceAuthenticator:
    """FastAPI dependency: returns the user's :class:`Principal` or raises 403/401."""

    def __init__(
        self,
        *,
        secrets: dict[str, str],
        service: str,
        verifier: TokenVerifier,
        clock: Clock | None = None,
        max_skew_seconds: int = 300,
        mode: Literal["sigv4", "apigateway-iam"] = "sigv4",
        principals: list[str] | tuple[str, ...] = (),
        nonces: NonceCache | None = None,
    ) -> None:
        if mode == "apigateway-iam" and not principals:
            raise ValueError("apigateway-iam mode needs at least one allowed principal")
        self._mode = mode
        self._principals = frozenset(principals)
        self._secrets = dict(secrets)
        self._service = service
        self._verifier = verifier
        self._clock = clock or SystemClock()
        self._skew = max_skew_seconds
        self._nonces = nonces if nonces is not None else NonceCache()

    @classmethod
    def from_settings(
        cls, settings: CommonSettings, *, verifier: TokenVerifier, clock: Clock | None = None
    ) -> ServiceAuthenticator:
        """The gate as the common settings configure it (keys or allowed roles, scope, skew)."""
        return cls(
            secrets=settings.service_auth_keys,
            service=settings.sigv4_service,
            verifier=verifier,
            clock=clock,
            max_skew_seconds=settings.sigv4_max_skew_seconds,
            mode=settings.service_auth_mode,
            principals=settings.service_auth_principals,
        )

    def _now(self) -> datetime:
        return self._clock.now()

    async def __call__(self, request: Request) -> Principal:
        now = self._now()
        if self._mode == "apigateway-iam":
            caller = request.headers.get(CALLER_ARN_HEADER, "")
            if not caller or role_arn_of(caller) not in self._principals:
                raise Forbidden("caller not allowed")
            # API Gateway checked the signature, nonce included (the signer always signs it), and
            # its date within its own skew: remember it for that long on either side of now.
            expires = now + timedelta(seconds=2 * self._skew)
        else:
            signed = await self._verify_signature(request, now)
            caller = signed.access_key_id
            expires = (signed.signed_at or now) + timedelta(seconds=self._skew)
        # after the signature: only a caller holding a key can fill the cache
        self._nonces.use(caller, request.headers.get(NONCE_HEADER), expires_at=expires.timestamp(), now=now.timestamp())
        return await self._verifier.verify(bearer_token(request.headers.get(USER_TOKEN_HEADER)))

    async def _verify_signature(self, request: Request, now: datetime) -> SignedCaller:
        return await verify_request_signature(
            request, secrets=self._secrets, service=self._service, now=now, max_skew_seconds=self._skew
        )
