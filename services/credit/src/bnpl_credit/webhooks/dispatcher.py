"""The dispatcher: a background task of the credit service that sends due deliveries.

Each round asks every merchant's queue for what is due, up to that merchant's free slots
(``per_merchant`` concurrent attempts at most, ``max_in_flight`` overall), and starts one task
per attempt without waiting for it: a slow or dead receiver holds only its own merchant's
slots, never another merchant's deliveries or the next round. Within a checkout only the
earliest PENDING delivery may go out; later ones are deferred until it has ended.

An attempt first claims the delivery (``version`` check, ``next_attempt_at`` moved forward by
a lease), so two dispatchers never send the same delivery at once, and a dispatcher that dies
mid-attempt leaves it due again after the lease: at least once, always with the event's id.
Attempts are logged with ids, type, status and error class only: never the body, the URL or a
secret. Connections are kept per receiver (:mod:`bnpl_credit.webhooks.connections`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bnpl_common.clock import Clock
from bnpl_common.internal_http import CallFailed
from bnpl_common.telemetry import mark_error, span

from bnpl_credit.metrics import record_webhook_attempt
from bnpl_credit.webhooks.addresses import AddressRefused, Resolver, resolve_target, system_resolver
from bnpl_credit.webhooks.connections import ReceiverConnections
from bnpl_credit.webhooks.fanout import ReceiverDirectory, WebhookReceiver
from bnpl_credit.webhooks.model import Attempt, DeliveryStatus, RetryPolicy, WebhookDelivery
from bnpl_credit.webhooks.ports import WebhookDeliveryStore
from bnpl_credit.webhooks.signing import signature_headers

log = logging.getLogger("bnpl.credit.webhooks")

MerchantIds = Callable[[], Awaitable[Sequence[str]]]
MERCHANT_LIST_SECONDS = 30.0  # how long the registry's merchant list is reused (fan-out adds new ones at once)
USER_AGENT = "bnpl-webhooks/1"


class DispatchStore(WebhookDeliveryStore, ReceiverDirectory, Protocol): ...


@dataclass(frozen=True, slots=True)
class DispatchConfig:
    policy: RetryPolicy
    timeout_seconds: float = 5.0
    per_merchant: int = 4
    max_in_flight: int = 64
    strict_urls: bool = True  # https and public addresses only (AWS)

    @property
    def lease(self) -> timedelta:
        """How long a claimed delivery is not due: the attempt's time limit, with room to record it."""
        return timedelta(seconds=2 * self.timeout_seconds + 5)


class Dispatcher:
    def __init__(
        self,
        store: DispatchStore,
        connections: ReceiverConnections,
        clock: Clock,
        config: DispatchConfig,
        *,
        merchant_ids: MerchantIds,
        resolver: Resolver = system_resolver,
        rng: random.Random | None = None,
    ) -> None:
        self._store = store
        self._connections = connections
        self._clock = clock
        self._config = config
        self._merchant_ids = merchant_ids
        self._resolver = resolver
        self._rng = rng or random.SystemRandom()
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        self._busy: Counter[str] = Counter()
        self._wake = asyncio.Event()
        self._known: list[str] = []
        self._known_until = 0.0
        self._recent: set[str] = set()

    # -- scheduling -----------------------------------------------------------------------

    def wake(self, merchant_ids: Iterable[str] = ()) -> None:
        """Look for due deliveries now rather than at the next interval (of these merchants too)."""
        self._recent.update(merchant_ids)
        self._wake.set()

    async def _merchants(self) -> list[str]:
        """Every merchant whose queue to look at: the registry's list, read at most every
        ``MERCHANT_LIST_SECONDS``, plus those fan-out or a redelivery just named."""
        now = time.monotonic()
        if now >= self._known_until:
            self._known = list(await self._merchant_ids())
            self._known_until = now + MERCHANT_LIST_SECONDS
            self._recent.clear()
        return sorted({*self._known, *self._recent})

    async def dispatch_once(self) -> int:
        """Start the attempts that are due and allowed; how many were started."""
        started = 0
        for merchant_id in await self._merchants():
            free = min(
                self._config.per_merchant - self._busy[merchant_id],
                self._config.max_in_flight - len(self._in_flight),
            )
            if free <= 0:
                continue
            now = self._clock.now()
            due = await self._store.due_deliveries(merchant_id, now=now, limit=free + self._config.per_merchant)
            for delivery in due:
                if free <= 0:
                    break
                if delivery.id in self._in_flight or not await self._is_first_of_checkout(delivery):
                    continue
                claimed = await self._save(delivery.claimed(now=self._clock.now(), lease=self._config.lease))
                if claimed is None:
                    continue  # another dispatcher took it, or it changed meanwhile
                self._start(claimed)
                free -= 1
                started += 1
        return started

    async def _is_first_of_checkout(self, delivery: WebhookDelivery) -> bool:
        head = await self._store.first_pending(delivery.merchant_id, delivery.ordering_key)
        if head is None or head.id == delivery.id:
            return True
        # an earlier event of this checkout is not delivered yet: not due before its next attempt
        head_at, own_at = head.next_attempt_at, delivery.next_attempt_at
        if head_at is not None and own_at is not None and head_at > own_at:
            deferred = await self._save(delivery.deferred(head_at))
            # the head may have ended since it was read, its end finding this one due and leaving
            # it so: then this deferral would hold it until the head's lease ran out
            if (
                deferred is not None
                and (after := await self._store.first_pending(delivery.merchant_id, delivery.ordering_key)) is not None
                and after.id == delivery.id
            ):
                await self._save(deferred.woken(self._clock.now()))
                self._wake.set()
        return False

    async def _save(self, delivery: WebhookDelivery) -> WebhookDelivery | None:
        """The delivery as stored (next version), or None if it changed meanwhile."""
        saved = await self._store.save_delivery(delivery)
        return replace(delivery, version=delivery.version + 1) if saved is True else None

    def _start(self, delivery: WebhookDelivery) -> None:
        merchant_id = delivery.merchant_id
        self._busy[merchant_id] += 1
        task = asyncio.create_task(self._deliver(delivery))
        self._in_flight[delivery.id] = task

        def done(_: asyncio.Task[None]) -> None:
            self._in_flight.pop(delivery.id, None)
            self._busy[merchant_id] -= 1
            self._wake.set()  # a slot is free

        task.add_done_callback(done)

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    async def drain(self) -> None:
        """Wait for the attempts in flight (tests, shutdown)."""
        while self._in_flight:
            await asyncio.gather(*list(self._in_flight.values()), return_exceptions=True)

    async def aclose(self) -> None:
        for task in list(self._in_flight.values()):
            task.cancel()
        await self.drain()

    async def run_forever(self, interval: float) -> None:
        """Rounds every ``interval`` seconds, or sooner when woken; failures are logged, not fatal."""
        while True:
            self._wake.clear()
            try:
                await self.dispatch_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # keep dispatching; the next round retries
                log.warning("webhook dispatch round failed", extra={"error_class": type(exc).__name__})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval)

    # -- one attempt ----------------------------------------------------------------------

    async def _deliver(self, delivery: WebhookDelivery) -> None:
        try:
            receiver = await self._store.get_merchant(delivery.merchant_id)
            attempt = await self._attempt(delivery, receiver)
            await self._record(delivery, attempt)
        except asyncio.CancelledError:
            raise  # shutdown: the lease makes it due again
        except Exception as exc:
            log.warning(
                "webhook attempt not recorded",
                extra={
                    "delivery_id": delivery.id,
                    "merchant_id": delivery.merchant_id,
                    "error_class": type(exc).__name__,
                },
            )

    async def _attempt(self, delivery: WebhookDelivery, receiver: WebhookReceiver | None) -> Attempt:
        now = self._clock.now()
        started = time.monotonic()
        url = receiver.webhook_url if receiver is not None else None
        status_code: int | None = None
        error: str | None = None
        if receiver is None or not url:
            error = "no_webhook_url"
        elif not receiver.live_webhook_secrets(now):
            error = "no_webhook_secret"
        else:
            with span(
                "webhook.deliver", {"webhook.merchant_id": delivery.merchant_id, "webhook.event": delivery.event_type}
            ) as current:
                try:
                    status_code = await self._post(delivery, url, receiver.live_webhook_secrets(now))
                except AddressRefused as refused:
                    error = refused.reason
                except CallFailed as unreachable:
                    error = "timeout" if unreachable.timed_out else "connection_error"
                if error is not None or status_code is None or not 200 <= status_code < 300:
                    mark_error(current, error or f"http_{status_code}")
        delivered = error is None and status_code is not None and 200 <= status_code < 300
        record_webhook_attempt(delivery.merchant_id, delivered=delivered, seconds=time.monotonic() - started)
        attempt = Attempt(
            number=len(delivery.attempts) + 1,
            attempted_at=now,
            duration_ms=int((time.monotonic() - started) * 1000),
            status_code=status_code,
            error=error,
            url=url or "",
        )
        log.info(
            "webhook attempt",
            extra={
                "delivery_id": delivery.id,
                "event_id": delivery.event_id,
                "merchant_id": delivery.merchant_id,
                "event_type": delivery.event_type,
                "attempt": attempt.number,
                "http_status": status_code,  # ("status_code" would be redacted: it contains "code")
                "error": error,
                "duration_ms": attempt.duration_ms,
            },
        )
        return attempt

    async def _post(self, delivery: WebhookDelivery, url: str, secrets: Sequence[str]) -> int:
        target = await resolve_target(url, strict=self._config.strict_urls, resolver=self._resolver)
        # the wall-clock time of sending (receivers check it against theirs), whatever the app clock says
        sent_at = datetime.now(UTC)
        headers = signature_headers(secrets, msg_id=delivery.event_id, timestamp=sent_at, payload=delivery.payload)
        headers.update({"content-type": "application/json", "user-agent": USER_AGENT})
        # the whole exchange up to the status, not per read: a trickling receiver ends too
        return await self._connections.post(
            target, delivery.payload.encode(), headers, time_limit=self._config.timeout_seconds
        )

    async def _record(self, delivery: WebhookDelivery, attempt: Attempt) -> None:
        current: WebhookDelivery | None = delivery
        for _ in range(5):
            if current is None:
                return
            if current.redelivery_requested_at is not None and current.redelivery_requested_at > attempt.attempted_at:
                updated = current.with_attempt_only(attempt)  # a redelivery asked after this attempt began
            else:
                updated = current.after_attempt(attempt, policy=self._config.policy, rng=self._rng)
            saved = await self._save(updated)
            if saved is not None:
                if saved.status is not DeliveryStatus.PENDING:
                    await self._release_next(saved)
                return
            current = await self._store.get_delivery(delivery.merchant_id, delivery.id)

    async def _release_next(self, ended: WebhookDelivery) -> None:
        """The next delivery of the checkout may go now."""
        following = await self._store.first_pending(ended.merchant_id, ended.ordering_key)
        now = self._clock.now()
        if following is not None and following.next_attempt_at is not None and following.next_attempt_at > now:
            await self._save(following.woken(now))
        self._wake.set()
