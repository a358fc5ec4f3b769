"""The outbox's storage port: events are written by the changes themselves (each write
method of the other ports takes its events); the relay reads and marks them here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from bnpl_credit.events.model import Event


class OutboxStore(Protocol):
    async def pending_events(self, *, limit: int) -> list[Event]:
        """Unpublished events, oldest first."""
        ...

    async def mark_published(self, event_ids: Sequence[str], *, published_at: datetime) -> None: ...
