"""Gauges measured from the store (the outbox, late plans, the review queue) and the publisher that times the
outbox's publications. The outbox is measured every ``MONITOR_INTERVAL_SECONDS`` (which also
feeds EMF in AWS) and before each ``/metrics`` answer; late plans by each lateness sweep (it
reads the open plans anyway)."""

from __future__ import annotations

from datetime import date

from bnpl_common.clock import Clock
from bnpl_common.timefmt import parse_instant

from bnpl_credit.events.ports import OutboxStore
from bnpl_credit.events.relay import Message, Publisher
from bnpl_credit.metrics import OUTBOX_OLDEST_AGE, OUTBOX_PENDING, OUTBOX_PUBLISH_LAG, PLANS_LATE, record_review_queue
from bnpl_credit.plans.ledger import Plan
from bnpl_credit.plans.model import PlanStatus
from bnpl_credit.plans.ports import PlanStore
from bnpl_credit.reviews.ports import ReviewStore

MONITOR_INTERVAL_SECONDS = 15.0
PENDING_SCAN_LIMIT = 1000


async def observe_outbox(store: OutboxStore, clock: Clock) -> None:
    """How many events wait for the relay (up to 1000) and how old the oldest is."""
    pending = await store.pending_events(limit=PENDING_SCAN_LIMIT)
    OUTBOX_PENDING.set(len(pending))
    oldest = min((event.occurred_at for event in pending), default=None)
    OUTBOX_OLDEST_AGE.set(max(0.0, (clock.now() - oldest).total_seconds()) if oldest is not None else 0.0)


def is_late(plan: Plan, today: date) -> bool:
    """An active plan with an installment marked late that is not paid yet."""
    return plan.status is PlanStatus.ACTIVE and any(
        i.late_on is not None and i.late_on <= today and i.unpaid > 0 for i in plan.installments
    )


async def observe_plans(store: PlanStore, clock: Clock) -> None:
    today = clock.now().date()
    PLANS_LATE.set(sum(1 for plan in await store.list_open_plans() if is_late(plan, today)))


class TimedPublisher:
    """A publisher that records, for each event it got accepted, the time since its change."""

    def __init__(self, inner: Publisher, clock: Clock) -> None:
        self._inner = inner
        self._clock = clock

    async def publish(self, events: list[Message]) -> list[str]:
        accepted = await self._inner.publish(events)
        now, taken = self._clock.now(), set(accepted)
        for event in events:
            if event["id"] in taken:
                OUTBOX_PUBLISH_LAG.observe(max(0.0, (now - parse_instant(event["occurredAt"])).total_seconds()))
        return accepted


async def observe_review_queue(store: ReviewStore, clock: Clock) -> None:
    """How many review cases are live (open, waiting for information or a second approval) and
    how long the oldest has waited (up to the first PENDING_SCAN_LIMIT)."""
    now = clock.now()
    live = await store.list_live_cases_opened_before(now, limit=PENDING_SCAN_LIMIT)
    record_review_queue((case.opened_at for case in live), now=now)
