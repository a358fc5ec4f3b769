"""The policy's affordability rule on one offer: :mod:`bnpl_credit.markets.affordability` with
the policy's share and the market's stress buffer and debt assumptions. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bnpl_credit.decision.policy import Policy
from bnpl_credit.decision.schedule import Schedule
from bnpl_credit.markets.affordability import Assessment, assess, explain
from bnpl_credit.markets.catalog import Market
from bnpl_credit.markets.interest import Installment


def assess_offer(
    policy: Policy,
    market: Market,
    plan_type: str,
    schedule: Schedule,
    *,
    today: date,
    monthly_income: int,
    monthly_expenses: int,
    declared_debt: int,
    own_plans: Sequence[Installment],
) -> tuple[Assessment, str | None]:
    """The assessment of ``schedule`` and, when it fails, the sentence naming the figure that failed."""
    pay_in_4 = market.product(plan_type).interval_days is not None
    assessment = assess(
        market.affordability,
        share_percent=policy.affordability.max_installment_share_percent,
        today=today,
        monthly_income=monthly_income,
        monthly_expenses=monthly_expenses,
        declared_debt=declared_debt,
        own_plans=own_plans,
        new_plan=[Installment(i.due_date, i.amount) for i in schedule.installments],
        pay_in_4=pay_in_4,
    )
    if assessment.affordable:
        return assessment, None
    return assessment, explain(assessment, pay_in_4=pay_in_4, money=market.currency + " {:,.2f}")
