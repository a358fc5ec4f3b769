"""Affordability that counts every obligation the platform can see.

    disposable  = income - expenses - service of the declared debt - own plans due in 30 days
    stressed    = disposable x (100 - market's stress buffer) / 100
    needed      = pay in 4: every installment of the new plan due in its first 30 days
                  (three of four: at confirmation, after 14 and after 28 days);
                  monthly: the plan's largest monthly payment
    affordable  when needed <= the policy's share of ``stressed``

The declared debt is serviced as an annuity at the market's stated rate and term (a shopper
declares a balance, not a payment; the assumption is stated in the market file). The shopper's
own running plans count at what they take in the 30 days from today. Every failure names the
figure that failed, in a sentence the shopper can check against what they told us.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum

from bnpl_credit.markets.catalog import AffordabilityRules
from bnpl_credit.markets.interest import Installment

WINDOW = timedelta(days=30)


class Shortfall(StrEnum):
    NO_DISPOSABLE_INCOME = "NO_DISPOSABLE_INCOME"  # nothing is left once obligations are paid
    PAYMENTS_TOO_HIGH = "PAYMENTS_TOO_HIGH"  # something is left, but not enough for this plan


@dataclass(frozen=True, slots=True)
class Assessment:
    disposable: int  # per month, after expenses, declared debt and the shopper's own plans
    stressed: int  # after the market's stress buffer
    allowed: int  # the share of ``stressed`` the policy lets a plan take
    needed: int  # what the new plan takes in its first 30 days (pay in 4) or a month
    debt_service: int
    own_plans: int
    shortfall: Shortfall | None

    @property
    def affordable(self) -> bool:
        return self.shortfall is None


def debt_service(balance: int, *, rate_basis_points: int, term_months: int) -> int:
    """The monthly payment of an annuity repaying ``balance`` (rounded up: the prudent side)."""
    if balance <= 0:
        return 0
    if rate_basis_points == 0:
        return -(-balance // term_months)
    rate = Decimal(rate_basis_points) / Decimal(120_000)
    growth = (1 + rate) ** term_months
    payment = Decimal(balance) * rate * growth / (growth - 1)
    return int(payment.to_integral_value(rounding=ROUND_CEILING))


def due_within(installments: Sequence[Installment], start: date) -> int:
    """The sum of the installments due from ``start`` up to 30 days after it."""
    return sum(i.amount for i in installments if start <= i.due < start + WINDOW)


def assess(
    rules: AffordabilityRules,
    *,
    share_percent: int,
    today: date,
    monthly_income: int,
    monthly_expenses: int,
    declared_debt: int,
    own_plans: Sequence[Installment],
    new_plan: Sequence[Installment],
    pay_in_4: bool,
) -> Assessment:
    """Whether ``new_plan`` is affordable beside everything else the shopper pays."""
    service = debt_service(
        declared_debt,
        rate_basis_points=rules.assumed_debt_rate_basis_points,
        term_months=rules.assumed_debt_term_months,
    )
    running = due_within(own_plans, today)
    disposable = monthly_income - monthly_expenses - service - running
    stressed = disposable * (100 - rules.stress_buffer_percent) // 100
    allowed = max(stressed, 0) * share_percent // 100
    needed = due_within(new_plan, today) if pay_in_4 else max((i.amount for i in new_plan), default=0)
    shortfall = None
    if disposable <= 0:
        shortfall = Shortfall.NO_DISPOSABLE_INCOME
    elif needed > allowed:
        shortfall = Shortfall.PAYMENTS_TOO_HIGH
    return Assessment(
        disposable=disposable,
        stressed=stressed,
        allowed=allowed,
        needed=needed,
        debt_service=service,
        own_plans=running,
        shortfall=shortfall,
    )


def explain(assessment: Assessment, *, pay_in_4: bool, money: str) -> str:
    """The sentence a shopper reads when affordability fails; ``money`` formats minor units,
    e.g. ``"EUR {:,.2f}"`` applied to major units."""

    def fmt(minor: int) -> str:
        return money.format(minor / 100)

    parts = [
        f"your income after expenses ({fmt(assessment.disposable + assessment.debt_service + assessment.own_plans)})"
    ]
    if assessment.debt_service:
        parts.append(f"less {fmt(assessment.debt_service)} a month for the debts you told us about")
    if assessment.own_plans:
        parts.append(f"less {fmt(assessment.own_plans)} due on your other plans with us in the next 30 days")
    base = ", ".join(parts)
    if assessment.shortfall is Shortfall.NO_DISPOSABLE_INCOME:
        return f"Nothing is left each month from {base}, so we cannot offer more credit now."
    what = "The payments due in the first 30 days of this plan" if pay_in_4 else "The monthly payment of this plan"
    return (
        f"{what} ({fmt(assessment.needed)}) would be more than we can lend against: at most {fmt(assessment.allowed)}, "
        f"a share of {base}."
    )
