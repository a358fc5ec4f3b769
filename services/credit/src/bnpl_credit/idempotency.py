"""Idempotency records: the first response to a key, stored with the change it answered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bnpl_common.idempotency import StoredResponse

DEFAULT_IDEMPOTENCY_TTL = timedelta(hours=48)


@dataclass(frozen=True, slots=True)
class NewIdempotency:
    """An idempotency record to write with a change; the store keeps it for its TTL (>= 24 h).

    ``body`` is the HTTP response as sent (JSON): a retry gets it back byte for byte.
    """

    scope: str  # the customer's sub, or ``merchant:<key id>``
    key: str
    fingerprint: str
    status_code: int
    body: dict[str, Any]
    created_at: datetime


class IdempotencyStore(Protocol):
    async def get_idempotent(self, scope: str, key: str, *, now: datetime) -> StoredResponse | None:
        """The live response stored for ``key`` in ``scope``, if any."""
        ...

    async def purge_expired(self, *, now: datetime) -> int:
        """Drop idempotency records past their expiry (DynamoDB's TTL does this by itself)."""
        ...
