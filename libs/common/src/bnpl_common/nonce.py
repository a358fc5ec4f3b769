"""The nonces of accepted signed calls, remembered until their signatures expire: a signed
request sent again is refused (SigV4 alone would accept the same bytes until the end of the
skew window, so a resent PATCH would undo a later change).

In memory, per process, bounded. Several tasks behind a load balancer each keep their own, so
a copy that reaches another task than the original is not caught here; what creates something
(a POST with an ``Idempotency-Key``, the key inside the signature) is still done once, since the
stored idempotency record answers the copy with the first response. Full of live nonces, the
cache refuses new calls (503) rather than forget one that could still be replayed.
"""

from __future__ import annotations

import heapq
import re

from bnpl_common.errors import AppError, Forbidden

# A few minutes of calls at a few hundred per second, about 200 bytes each (40 MB when full).
DEFAULT_CAPACITY = 200_000
_NONCE_RE = re.compile(r"[A-Za-z0-9_-]{16,64}")


class ReplayCacheFull(AppError):
    status_code = 503
    error_type = "ServiceUnavailable"


class NonceCache:
    """Remembers ``(caller, nonce)`` pairs until their expiry (epoch seconds)."""

    def __init__(self, *, capacity: int = DEFAULT_CAPACITY) -> None:
        self._capacity = capacity
        self._expiry: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []

    def __len__(self) -> int:
        return len(self._expiry)

    def use(self, caller: str, nonce: str | None, *, expires_at: float, now: float) -> None:
        """Accept ``nonce`` once for ``caller``; :class:`Forbidden` for a missing, malformed or
        already used one, :class:`ReplayCacheFull` (503) when no more can be remembered."""
        if not nonce or not _NONCE_RE.fullmatch(nonce):
            raise Forbidden("missing or malformed X-Bnpl-Nonce")
        key = f"{caller}\n{nonce}"
        # no await in here: on one event loop, check and insert are one step
        while self._heap and self._heap[0][0] <= now:
            _, old = heapq.heappop(self._heap)
            self._expiry.pop(old, None)
        if key in self._expiry:
            raise Forbidden("this signed request was already received (replay)")
        if len(self._expiry) >= self._capacity:
            raise ReplayCacheFull("too many signed calls to remember; retry later", info={"retryAfterSeconds": 1})
        self._expiry[key] = expires_at
        heapq.heappush(self._heap, (expires_at, key))
