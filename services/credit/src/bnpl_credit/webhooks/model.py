"""Webhook deliveries: one outbox event sent to one merchant, with every attempt recorded.

A delivery is created once per event (its id derives from the event id, so a repeated fan-out
finds it already there) and holds the exact JSON body it sends: every attempt sends the same
bytes under the same ``webhook-id`` (the event id). It is ``PENDING`` until an attempt gets a
2xx (``DELIVERED``) or the retry window has passed with every attempt failed (``FAILED``).

Deliveries that share an ``ordering_key`` (one checkout) go out in ``sequence`` order: a later
one waits while an earlier one is ``PENDING``. ``next_attempt_at`` is when a dispatcher may
take it; taking it moves ``next_attempt_at`` forward by a lease (``claimed``), so a dispatcher
that dies mid-attempt leaves a delivery that becomes due again and is sent again, same id.
``version`` is what the store's optimistic check compares.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from bnpl_common.timefmt import format_instant


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


class AttemptTrigger(StrEnum):
    SCHEDULED = "SCHEDULED"  # the dispatcher's own first send or retry
    REDELIVERY = "REDELIVERY"  # the first attempt after the merchant asked for a redelivery


@dataclass(frozen=True, slots=True)
class Attempt:
    """One POST to the merchant: its HTTP status, or why there was none (``error``)."""

    number: int
    attempted_at: datetime
    duration_ms: int
    status_code: int | None
    error: str | None  # "timeout", "connection_error", "address_refused", "no_webhook_url", ... (no details)
    url: str  # the URL as the merchant registered it (never a resolved address)
    trigger: AttemptTrigger = AttemptTrigger.SCHEDULED

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter, for at least ``window`` after the first attempt is due.

    The n-th retry waits a uniformly random time in ``[0, ceilings[n-1]]`` (the last ceiling
    repeats); no retry is scheduled past the end of the window, and a delivery is FAILED only
    by an attempt made at or after it: so a receiver that is down for less than the window
    always gets the event.
    """

    ceilings: tuple[float, ...]
    window: timedelta

    def __post_init__(self) -> None:
        if not self.ceilings or any(c <= 0 for c in self.ceilings):
            raise ValueError("the retry schedule needs at least one positive delay")
        if self.window.total_seconds() <= 0:
            raise ValueError("the retry window must be positive")

    def ceiling(self, failures: int) -> float:
        """The most the retry after ``failures`` failed attempts may wait (seconds)."""
        return self.ceilings[min(failures, len(self.ceilings)) - 1]

    def next_attempt(
        self, *, failures: int, now: datetime, retry_until: datetime, rng: random.Random
    ) -> datetime | None:
        """When to try again after ``failures`` failed attempts, the last at ``now``; None: give up."""
        if failures < 1:
            raise ValueError("a retry follows a failed attempt")
        if now >= retry_until:
            return None
        delay = timedelta(seconds=rng.uniform(0, self.ceiling(failures)))
        return min(now + delay, retry_until)


DEFAULT_RETRY_CEILINGS: tuple[float, ...] = (5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600)
DEFAULT_RETRY_WINDOW = timedelta(hours=24)


def delivery_id_for(event_id: str) -> str:
    """The delivery of one event (an event concerns one merchant): the same id on every fan-out."""
    return f"whd_{event_id.replace('-', '')}"


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    id: str
    merchant_id: str
    event_id: str  # the ``webhook-id`` of every attempt
    event_type: str  # the webhook type, e.g. ``checkout.captured``
    ordering_key: str  # the checkout id: deliveries of one checkout go out in order
    sequence: str  # sortable position among the key's deliveries (event time, then id)
    payload: str  # the JSON body, fixed once: every attempt sends the same bytes
    created_at: datetime
    status: DeliveryStatus
    next_attempt_at: datetime | None  # None once DELIVERED or FAILED
    retry_until: datetime
    attempts: tuple[Attempt, ...] = ()
    delivered_at: datetime | None = None
    failed_at: datetime | None = None
    redelivery_requested_at: datetime | None = None  # set by a redelivery, until its first attempt
    version: int = 1

    @classmethod
    def new(
        cls,
        *,
        event_id: str,
        merchant_id: str,
        event_type: str,
        ordering_key: str,
        occurred_at: datetime,
        payload: str,
        now: datetime,
        window: timedelta,
    ) -> WebhookDelivery:
        return cls(
            id=delivery_id_for(event_id),
            merchant_id=merchant_id,
            event_id=event_id,
            event_type=event_type,
            ordering_key=ordering_key,
            sequence=f"{format_instant(occurred_at)}#{event_id}",
            payload=payload,
            created_at=now,
            status=DeliveryStatus.PENDING,
            next_attempt_at=now,
            retry_until=now + window,
        )

    @property
    def failures_since_reset(self) -> int:
        """Failed attempts since the delivery was (re)started: what the backoff counts."""
        count = 0
        for attempt in reversed(self.attempts):
            if attempt.succeeded:
                break
            count += 1
            if attempt.trigger is AttemptTrigger.REDELIVERY:
                break
        return count

    def claimed(self, *, now: datetime, lease: timedelta) -> WebhookDelivery:
        """Taken by a dispatcher: due again only after the lease (a crash mid-attempt retries)."""
        return replace(self, next_attempt_at=now + lease)

    def deferred(self, until: datetime) -> WebhookDelivery:
        """Waiting for an earlier delivery of its checkout: not due before ``until``."""
        return replace(self, next_attempt_at=until)

    def woken(self, now: datetime) -> WebhookDelivery:
        """Due now (the earlier delivery it waited for has ended)."""
        return replace(self, next_attempt_at=now)

    def after_attempt(self, attempt: Attempt, *, policy: RetryPolicy, rng: random.Random) -> WebhookDelivery:
        """This delivery with ``attempt`` recorded: delivered, retried later, or failed."""
        if self.redelivery_requested_at is not None:
            attempt = replace(attempt, trigger=AttemptTrigger.REDELIVERY)
        recorded = replace(
            self,
            attempts=(*self.attempts, replace(attempt, number=len(self.attempts) + 1)),
            redelivery_requested_at=None,
        )
        if attempt.succeeded:
            return replace(
                recorded, status=DeliveryStatus.DELIVERED, delivered_at=attempt.attempted_at, next_attempt_at=None
            )
        if self.status is not DeliveryStatus.PENDING:  # a late answer to an attempt on a delivery that ended meanwhile
            return recorded
        retry_at = policy.next_attempt(
            failures=recorded.failures_since_reset,
            now=attempt.attempted_at,
            retry_until=self.retry_until,
            rng=rng,
        )
        if retry_at is None:
            return replace(recorded, status=DeliveryStatus.FAILED, failed_at=attempt.attempted_at, next_attempt_at=None)
        return replace(recorded, next_attempt_at=retry_at)

    def with_attempt_only(self, attempt: Attempt) -> WebhookDelivery:
        """``attempt`` kept in the history, nothing else changed (it began before a redelivery)."""
        return replace(self, attempts=(*self.attempts, replace(attempt, number=len(self.attempts) + 1)))

    def redelivery(self, *, now: datetime, window: timedelta) -> WebhookDelivery:
        """Sent again now (the merchant asked), retried as a new delivery if it fails."""
        return replace(
            self,
            status=DeliveryStatus.PENDING,
            next_attempt_at=now,
            retry_until=now + window,
            delivered_at=None,
            failed_at=None,
            redelivery_requested_at=now,
        )
