"""Is an access token still live? Cognito's ``GetUser`` tells.

Access tokens are verified offline (``bnpl_common.jwt``): fast, but a user who was disabled,
deleted or signed out everywhere (``GlobalSignOut``, ``AdminUserGlobalSignOut``) keeps a token
that verifies until it expires (an hour). Operations that move money or act as staff ask
Cognito first: ``GetUser`` with the access token answers 200 only while the user exists, is
enabled and the token was not revoked; ``NotAuthorizedException`` or ``UserNotFoundException``
mean it is dead. A live answer is cached for ``cache_seconds`` (per token, keyed by its
SHA-256), so a burst of calls costs one round trip; a dead one is never cached as live.

If Cognito cannot be reached, the answer is "unknown" and the operation is refused
(:class:`RevocationUnknown`): a failing dependency never lets money move.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable

import httpx

GET_USER_TARGET = "AWSCognitoIdentityProviderService.GetUser"
_DEAD_ERRORS = frozenset({"NotAuthorizedException", "UserNotFoundException", "UserNotConfirmedException"})


class TokenRevoked(Exception):
    """Cognito says the token's user is gone, disabled or signed out."""


class RevocationUnknown(Exception):
    """Cognito could not be asked (unreachable, slow, or an unexpected answer)."""


class RevocationChecker:
    """Asks Cognito whether an access token is still live; caches live answers briefly."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        endpoint: str,
        *,
        cache_seconds: float = 60.0,
        max_entries: int = 100_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._endpoint = endpoint.rstrip("/") + "/"
        self._ttl = cache_seconds
        self._max = max_entries
        self._now = monotonic
        self._live: OrderedDict[str, float] = OrderedDict()  # token digest -> live until

    async def ensure_live(self, token: str) -> None:
        """Return if the token is live; raise :class:`TokenRevoked` or :class:`RevocationUnknown`."""
        digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
        now = self._now()
        until = self._live.get(digest)
        if until is not None and until > now:
            return
        self._live.pop(digest, None)
        try:
            response = await self._client.post(
                self._endpoint,
                content=json.dumps({"AccessToken": token}),
                headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": GET_USER_TARGET},
            )
        except httpx.HTTPError as exc:
            raise RevocationUnknown(type(exc).__name__) from exc
        if response.status_code == 200:
            if self._ttl > 0:
                self._live[digest] = now + self._ttl
                while len(self._live) > self._max:
                    self._live.popitem(last=False)
            return
        if response.status_code == 400 and _error_type(response) in _DEAD_ERRORS:
            raise TokenRevoked()
        raise RevocationUnknown(f"HTTP {response.status_code}")


def _error_type(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    raw = str(body.get("__type", "")) if isinstance(body, dict) else ""
    return raw.rsplit("#", 1)[-1]
