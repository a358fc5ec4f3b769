"""The events plan changes raise (payloads are the published contract, money as JSON)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bnpl_common.timefmt import format_instant

from bnpl_credit.events.model import Event, EventType
from bnpl_credit.plans.ledger import LateMark, Plan
from bnpl_credit.plans.model import Allocation, Payment, PlanStatus, Refund


def _money(amount: int, currency: str) -> dict[str, object]:
    return {"amount": amount, "currency": currency}


def _allocations(allocations: Sequence[Allocation], currency: str) -> list[dict[str, object]]:
    return [{"sequence": a.sequence, "amount": _money(a.amount, currency)} for a in allocations]


def plan_activated(plan: Plan, now: datetime) -> Event:
    t = plan.terms
    return Event.new(
        EventType.PLAN_ACTIVATED,
        now=now,
        customer_id=t.customer_id,
        data={
            "planId": t.id,
            "applicationId": t.application_id,
            "planType": t.plan_type,
            "merchantId": t.merchant_id,
            "orderReference": t.order_reference,
            "principal": _money(t.principal, t.currency),
            "totalOfPayments": _money(t.total_of_payments, t.currency),
            "installments": [
                {"sequence": i.sequence, "dueDate": i.due_date.isoformat(), "amount": _money(i.amount, t.currency)}
                for i in plan.installments
            ],
        },
    )


def payment_applied(payment: Payment, plan: Plan, now: datetime) -> Event:
    return Event.new(
        EventType.PAYMENT_APPLIED,
        now=now,
        customer_id=plan.customer_id,
        data={
            "planId": plan.id,
            "paymentId": payment.id,
            "amount": _money(payment.amount, payment.currency),
            "source": str(payment.source),
            "allocations": _allocations(payment.allocations, payment.currency),
            "planStatus": str(plan.status),
        },
    )


def installments_late(plan: Plan, marked: Sequence[LateMark], now: datetime) -> list[Event]:
    """``installment.late`` of each installment :meth:`Plan.mark_late` just marked."""
    return [
        Event.new(
            EventType.INSTALLMENT_LATE,
            now=now,
            customer_id=plan.customer_id,
            data={
                "planId": plan.id,
                "sequence": m.sequence,
                "dueDate": m.due_date.isoformat(),
                "lateFee": _money(m.late_fee, plan.currency),
            },
        )
        for m in marked
    ]


def completion(plan: Plan, was: PlanStatus, now: datetime) -> list[Event]:
    """``plan.completed`` when the change just made the plan fully paid (a merchant hears of it
    when the plan came from its checkout)."""
    if was is PlanStatus.COMPLETED or plan.status is not PlanStatus.COMPLETED:
        return []
    t = plan.terms
    data = {
        "planId": t.id,
        "applicationId": t.application_id,
        "merchantId": t.merchant_id,
        "orderReference": t.order_reference,
        "completedAt": format_instant(now),
    }
    return [Event.new(EventType.PLAN_COMPLETED, now=now, customer_id=t.customer_id, data=data)]


def refund_applied(refund: Refund, now: datetime) -> Event:
    return Event.new(
        EventType.REFUND_APPLIED,
        now=now,
        customer_id=refund.customer_id,
        data={
            "planId": refund.plan_id,
            "refundId": refund.id,
            "merchantId": refund.merchant_id,
            "orderReference": refund.order_reference,
            "amount": _money(refund.amount, refund.currency),
            "returnedToShopper": _money(refund.returned_to_shopper, refund.currency),
            "planStatus": str(refund.plan_status),
        },
    )
