"""Money a refund returns to the shopper goes back to the method that paid, through the PSP.

Each refund's ``returnedToShopper`` is spread over the plan's PSP charges, newest first, after
what earlier refunds already returned (the same order each time, so a charge is never asked
for more than is left on it); each PSP refund's key is ``refund-<refundId>-<chargeId>``, so
doing it again never refunds twice. Runs after the refund is stored; a PSP failure is logged
and the refund stands (doing it again with the same keys completes it).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bnpl_common.clock import Clock
from bnpl_common.money import Money
from bnpl_common.retry import retry_on_contention

from bnpl_credit.collections.service import Collector
from bnpl_credit.events.model import Event, EventType
from bnpl_credit.plans.model import Payment, Refund
from bnpl_credit.plans.ports import PlanStore
from bnpl_credit.psp.errors import PspUnavailable

log = logging.getLogger("bnpl.credit.collections")


def spread(charges: Sequence[Payment], already: int, amount: int) -> list[tuple[Payment, int]]:
    """``amount`` over ``charges`` (newest first), after the ``already`` returned before it."""
    parts: list[tuple[Payment, int]] = []
    skip, left = already, amount
    for payment in sorted(charges, key=lambda p: p.created_at, reverse=True):
        room = payment.amount - min(skip, payment.amount)
        skip = max(skip - payment.amount, 0)
        take = min(room, left)
        if take > 0:
            parts.append((payment, take))
            left -= take
        if left == 0:
            break
    return parts


async def return_to_method(
    store: PlanStore, collector: Collector, clock: Clock, *, customer_id: str, plan_id: str, refunds: Sequence[Refund]
) -> int:
    """Refund to the card what ``refunds`` returned to the shopper; how much was sent back."""
    due = [r for r in refunds if r.returned_to_shopper > 0]
    if not due:
        return 0
    payments = [p for p in await store.list_payments(customer_id, plan_id) if p.psp_charge_id]
    stored = await store.list_refunds(customer_id, plan_id)
    sent = 0
    events: list[Event] = []
    for refund in due:
        earlier = sum(r.returned_to_shopper for r in stored if r.created_at < refund.created_at and r.id != refund.id)
        for payment, amount in spread(payments, earlier, refund.returned_to_shopper):
            assert payment.psp_charge_id is not None
            try:
                result = await collector.psp.refund(
                    charge_id=payment.psp_charge_id,
                    amount=Money(amount=amount, currency=payment.currency),
                    idempotency_key=f"refund-{refund.id}-{payment.psp_charge_id}",
                )
            except PspUnavailable:
                log.warning("refund to the payment method failed", extra={"plan_id": plan_id, "refund_id": refund.id})
                continue
            sent += amount
            events.append(
                Event.new(
                    EventType.PAYMENT_REFUNDED,
                    now=clock.now(),
                    customer_id=customer_id,
                    data={
                        "planId": plan_id,
                        "refundId": refund.id,
                        "paymentId": payment.id,
                        "pspRefundId": result.id,
                        "status": str(result.status),
                        "amount": {"amount": amount, "currency": payment.currency},
                    },
                )
            )
    if events:

        async def record() -> None:
            plan = await store.get_plan(customer_id, plan_id)
            if plan is not None:
                await store.update_plan(plan, idempotency=None, events=events)

        await retry_on_contention(record)
        log.info("refund returned to the payment method", extra={"plan_id": plan_id, "count": len(events)})
    return sent
