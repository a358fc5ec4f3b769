"""Repayment schedules in integer minor units; every schedule sums exactly to its total.

- ``split`` (PAY_IN_4): :func:`bnpl_common.money.split_evenly`, the first part due on the
  start date (at confirmation), then every ``interval_days``; no interest.
- ``amortising`` (MONTHLY_n): the standard annuity at the monthly rate APR / 12, computed
  with :class:`~decimal.Decimal` and rounded to minor units; each month's interest is
  rounded on its own and the last payment repays the remaining balance plus its interest,
  so ``sum(installments) == amountFinanced + financeCharge`` exactly.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from bnpl_common.money import split_evenly

from bnpl_credit.decision.policy import PlanTypePolicy


@dataclass(frozen=True, slots=True)
class ScheduledInstallment:
    sequence: int
    due_date: date
    amount: int


@dataclass(frozen=True, slots=True)
class Schedule:
    amount_financed: int
    finance_charge: int
    total_of_payments: int
    apr_basis_points: int
    installments: tuple[ScheduledInstallment, ...]


def add_months(start: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def _round(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def amortising_payments(principal: int, apr_basis_points: int, count: int) -> tuple[list[int], int]:
    """Monthly payments and the total interest of an annuity; the payments sum to principal + interest."""
    if apr_basis_points == 0:
        return split_evenly(principal, count), 0
    rate = Decimal(apr_basis_points) / Decimal(10_000) / Decimal(12)
    growth = (Decimal(1) + rate) ** count
    level = _round(Decimal(principal) * rate * growth / (growth - Decimal(1)))
    payments: list[int] = []
    interest_total = 0
    balance = principal
    for i in range(count):
        interest = _round(Decimal(balance) * rate)
        interest_total += interest
        payment = balance + interest if i == count - 1 else min(level, balance + interest)
        balance -= payment - interest
        payments.append(payment)
    return payments, interest_total


def build_schedule(plan: PlanTypePolicy, *, amount: int, grade: str | None, start: date) -> Schedule:
    """The schedule of ``amount`` under ``plan`` at ``grade``'s APR, starting on ``start``."""
    if plan.kind == "split":
        apr = 0
        parts = split_evenly(amount, plan.installments)
        step = plan.interval_days or 14
        dates = [start + timedelta(days=step * i) for i in range(plan.installments)]
        charge = 0
    else:
        if grade is None or grade not in plan.apr_basis_points:
            raise KeyError(f"no APR for grade {grade!r}")
        apr = plan.apr_basis_points[grade]
        parts, charge = amortising_payments(amount, apr, plan.installments)
        dates = [add_months(start, i + 1) for i in range(plan.installments)]
    installments = tuple(
        ScheduledInstallment(sequence=i + 1, due_date=d, amount=a)
        for i, (d, a) in enumerate(zip(dates, parts, strict=True))
    )
    return Schedule(
        amount_financed=amount,
        finance_charge=charge,
        total_of_payments=sum(parts),
        apr_basis_points=apr,
        installments=installments,
    )
