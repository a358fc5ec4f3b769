"""Publishing the outbox, and the loop that runs the background tasks.

The relay polls unpublished events, publishes them and marks them published: at least once
(a crash between publishing and marking publishes again; consumers dedupe on the event id).
``LogPublisher`` writes them to the log (local); ``EventBridgePublisher`` sends them with
boto3 ``put_events`` to ``EVENT_BUS_NAME`` (AWS). Publishers take each event's JSON message
(:meth:`Event.to_message`), the published contract.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from bnpl_common.aio import run_blocking
from bnpl_common.clock import Clock

from bnpl_credit.events.model import Event
from bnpl_credit.events.ports import OutboxStore

Message = dict[str, Any]  # an event as published: ``{id, type, source, occurredAt, customerId, data}``

log = logging.getLogger("bnpl.credit.events")

_PUT_EVENTS_BATCH = 10  # EventBridge's limit per PutEvents call


class Publisher(Protocol):
    async def publish(self, events: list[Message]) -> list[str]:
        """Publish; the ids that were accepted."""
        ...


KEPT_PUBLISHED = 1_000  # the log publisher's most recent events, kept for tests and debugging


class LogPublisher:
    """Local: one log line per event (type and id; the payload holds no secrets). The most recent
    events are kept in ``published`` (a bounded window: a running service must not keep them all)."""

    def __init__(self, *, keep: int = KEPT_PUBLISHED) -> None:
        self.published: deque[Message] = deque(maxlen=keep)

    async def publish(self, events: list[Message]) -> list[str]:
        for event in events:
            log.info("event published", extra={"event_type": event["type"], "event_id": event["id"]})
            self.published.append(event)
        return [e["id"] for e in events]


class EventBridgePublisher:
    """AWS: ``put_events`` to one bus, ``Source`` bnpl.credit, ``DetailType`` the event type."""

    def __init__(self, client: Any, *, bus_name: str) -> None:
        self._client = client
        self._bus = bus_name

    def _put(self, batch: list[Message]) -> list[str]:
        entries = [
            {
                "Source": event["source"],
                "DetailType": event["type"],
                "Detail": json.dumps(event, separators=(",", ":")),
                "EventBusName": self._bus,
            }
            for event in batch
        ]
        response = self._client.put_events(Entries=entries)
        results = response.get("Entries", [])
        return [event["id"] for event, result in zip(batch, results, strict=False) if result.get("EventId")]

    async def publish(self, events: list[Message]) -> list[str]:
        accepted: list[str] = []
        for start in range(0, len(events), _PUT_EVENTS_BATCH):
            accepted += await run_blocking(self._put, events[start : start + _PUT_EVENTS_BATCH])
        return accepted


async def relay_once(
    store: OutboxStore,
    publisher: Publisher,
    clock: Clock,
    *,
    batch: int = 100,
    before_publish: Callable[[Sequence[Event]], Awaitable[None]] | None = None,
) -> int:
    """Publish what is pending; how many were marked published. ``before_publish`` (the
    webhook fan-out) sees each batch first: if it fails, nothing is marked and all is retried."""
    events = await store.pending_events(limit=batch)
    if not events:
        return 0
    if before_publish is not None:
        await before_publish(events)
    accepted = await publisher.publish([event.to_message() for event in events])
    if accepted:
        await store.mark_published(accepted, published_at=clock.now())
    return len(accepted)


async def run_forever(name: str, step: Callable[[], Awaitable[None]], interval: float) -> None:
    """Call ``step()`` every ``interval`` seconds until cancelled; failures are logged, not fatal."""
    while True:
        try:
            await step()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # keep the loop alive; the next round retries
            log.warning("background task failed", extra={"task": name, "error_class": type(exc).__name__})
        await asyncio.sleep(interval)
