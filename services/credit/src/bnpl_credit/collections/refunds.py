"""Money a refund returns to the shopper goes back to the method that paid, through the PSP.

Each refund's ``returnedToShopper`` is spread over the plan's PSP charges, newest first, after
what earlier refunds already returned (the same order each time, so a charge is never asked
for more than is left on it); each PSP refund's key is ``refund-<refundId>-<chargeId>``, so
doing it again never refunds twice. Runs after the refund is stored; a part the PSP did not take
(unavailable) is kept (``PendingRefund``) and sent again with the same key by the scheduler
(:func:`retry_pending_refunds`) until it is; the refund stands meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from bnpl_common.clock import Clock
from bnpl_common.money import Money
from bnpl_common.retry import retry_on_contention

from bnpl_credit.collections.model import PendingRefund
from bnpl_credit.collections.ports import PaymentStore
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


class RefundStore(PlanStore, PaymentStore, Protocol):
    """What returning money to the card reads and writes."""


async def _send(collector: Collector, clock: Clock, part: PendingRefund) -> Event:
    """One refund part through the PSP (``PspUnavailable`` when it did not take it)."""
    result = await collector.psp.refund(
        charge_id=part.charge_id,
        amount=Money(amount=part.amount, currency=part.currency),
        idempotency_key=part.key,
    )
    return Event.new(
        EventType.PAYMENT_REFUNDED,
        now=clock.now(),
        customer_id=part.customer_id,
        data={
            "planId": part.plan_id,
            "refundId": part.refund_id,
            "paymentId": part.payment_id,
            "pspRefundId": result.id,
            "status": str(result.status),
            "amount": {"amount": part.amount, "currency": part.currency},
        },
    )


async def _record(store: PlanStore, customer_id: str, plan_id: str, events: list[Event]) -> None:
    async def record() -> None:
        plan = await store.get_plan(customer_id, plan_id)
        if plan is not None:
            await store.update_plan(plan, idempotency=None, events=events)

    await retry_on_contention(record)


async def return_to_method(
    store: RefundStore,
    collector: Collector,
    clock: Clock,
    *,
    customer_id: str,
    plan_id: str,
    refunds: Sequence[Refund],
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
            part = PendingRefund(
                key=f"refund-{refund.id}-{payment.psp_charge_id}",
                customer_id=customer_id,
                plan_id=plan_id,
                refund_id=refund.id,
                payment_id=payment.id,
                charge_id=payment.psp_charge_id,
                amount=amount,
                currency=payment.currency,
            )
            try:
                events.append(await _send(collector, clock, part))
            except PspUnavailable:
                await store.save_pending_refund(part)
                log.warning(
                    "refund to the payment method failed; sent again later",
                    extra={"plan_id": plan_id, "refund_id": refund.id},
                )
                continue
            sent += amount
    if events:
        await _record(store, customer_id, plan_id, events)
        log.info("refund returned to the payment method", extra={"plan_id": plan_id, "count": len(events)})
    return sent


async def retry_pending_refunds(store: RefundStore, collector: Collector, clock: Clock) -> int:
    """Send again, with the same keys, the refund parts the PSP did not take; how many it took."""
    done = 0
    for part in await store.list_pending_refunds():
        try:
            event = await _send(collector, clock, part)
        except PspUnavailable:
            log.warning(
                "refund to the payment method still failing",
                extra={"plan_id": part.plan_id, "refund_id": part.refund_id},
            )
            continue
        await _record(store, part.customer_id, part.plan_id, [event])
        await store.delete_pending_refund(part.key)
        done += 1
        log.info(
            "refund returned to the payment method on retry",
            extra={"plan_id": part.plan_id, "refund_id": part.refund_id},
        )
    return done
