"""The storage port of webhook deliveries (both credit store adapters implement it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bnpl_common.idempotency import StoredResponse

from bnpl_credit.idempotency import NewIdempotency
from bnpl_credit.webhooks.model import WebhookDelivery


@dataclass(frozen=True, slots=True)
class DeliveryCursor:
    """Where a page of a merchant's deliveries (newest first) ended."""

    created_at: datetime
    delivery_id: str


class WebhookDeliveryStore(Protocol):
    async def add_deliveries(self, deliveries: Sequence[WebhookDelivery]) -> int:
        """Store the deliveries that are not stored yet (by id); how many were new."""
        ...

    async def get_delivery(self, merchant_id: str, delivery_id: str) -> WebhookDelivery | None:
        """The merchant's delivery (another merchant's: None)."""
        ...

    async def list_deliveries(
        self, merchant_id: str, *, limit: int, after: DeliveryCursor | None
    ) -> list[WebhookDelivery]:
        """The merchant's deliveries, newest first, after ``after``."""
        ...

    async def due_deliveries(self, merchant_id: str, *, now: datetime, limit: int) -> list[WebhookDelivery]:
        """The merchant's PENDING deliveries due by ``now``, the longest-due first."""
        ...

    async def first_pending(self, merchant_id: str, ordering_key: str) -> WebhookDelivery | None:
        """The earliest (by ``sequence``) PENDING delivery of one checkout: the only one that may go out."""
        ...

    async def save_delivery(
        self, delivery: WebhookDelivery, *, idempotency: NewIdempotency | None = None
    ) -> StoredResponse | bool:
        """Replace the stored delivery if its version is still ``delivery.version`` (stored as
        version + 1): True; False if it changed meanwhile. With ``idempotency``, its record is
        written in the same transaction, and a key taken meanwhile returns the winner's response."""
        ...
