"""What the customer's own running plans on this platform take: every installment still unpaid
on an active plan in the order's currency, an overdue one as due today (it is owed now)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bnpl_credit.markets.interest import Installment
from bnpl_credit.plans.ledger import Plan
from bnpl_credit.plans.model import PlanStatus


def own_plan_payments(plans: Sequence[Plan], *, currency: str, today: date) -> tuple[Installment, ...]:
    """The unpaid installments of ``plans`` (active, in ``currency``), by the day they are owed."""
    return tuple(
        Installment(max(i.due_date, today), i.unpaid)
        for plan in plans
        if plan.status is PlanStatus.ACTIVE and plan.currency == currency
        for i in plan.installments
        if i.unpaid > 0
    )
