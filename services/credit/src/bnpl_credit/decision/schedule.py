"""Repayment schedules in integer minor units; every schedule sums exactly to its total.

The product (limits, installments, interval, rate by grade) is the market's
(:mod:`bnpl_credit.markets`):

- a product paid every ``interval_days`` (PAY_IN_4): :func:`bnpl_common.money.split_evenly`,
  the first part due on the start date when ``first_due_at_start`` (at confirmation), then
  every ``interval_days``; no interest.
- a monthly product (MONTHLY_n): the standard annuity at the monthly rate (nominal rate / 12),
  computed with :class:`~decimal.Decimal` and rounded to minor units; each month's interest is
  rounded on its own and the last payment repays the remaining balance plus its interest,
  so ``sum(installments) == amountFinanced + financeCharge`` exactly.

Every schedule carries the annual rate its market requires to be disclosed for exactly these
cash flows (:func:`bnpl_credit.markets.catalog.disclosed_rate`): the APRC in the EU and the
UK, the Regulation Z APR in the US. The nominal rate (``apr_basis_points``) is only what the
interest is computed at.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from bnpl_common.money import split_evenly

from bnpl_credit.markets.catalog import DisclosedRate, Market, Product, disclosed_rate


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
    apr_basis_points: int  # the nominal yearly rate the interest is computed at
    installments: tuple[ScheduledInstallment, ...]
    rate: DisclosedRate  # the annual rate as the market discloses it for these cash flows
    market_version: str | None = None  # the market terms it was made under (None: stored before they were recorded)


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


def due_dates(product: Product, count: int, start: date) -> list[date]:
    """When each of ``count`` installments of ``product`` falls due, counted from ``start``."""
    first = 0 if product.first_due_at_start else 1
    if product.interval_days is None:
        return [add_months(start, i + first) for i in range(count)]
    return [start + timedelta(days=product.interval_days * (i + first)) for i in range(count)]


def paid_at_start(product: Product, amount: int) -> int:
    """What the shopper pays at confirmation: the first part of a product due on its start date
    (pay in 4), else nothing. Interest-free products only split evenly, so this needs no grade."""
    return split_evenly(amount, product.installments)[0] if product.first_due_at_start else 0


def build_schedule(market: Market, plan_type: str, *, amount: int, grade: str, start: date) -> Schedule:
    """The schedule of ``amount`` for ``market``'s ``plan_type`` at ``grade``'s rate, from ``start``.

    A grade the product has no rate for is a ``KeyError``: the market does not lend to it."""
    product = market.product(plan_type)
    if grade not in product.rate_basis_points:
        raise KeyError(f"{market.market} {plan_type} has no rate for grade {grade!r}")
    rate = product.rate_basis_points[grade]
    if product.interval_days is not None:
        if rate != 0:
            # interest is computed per month: a market with interest on a non-monthly
            # product needs a new schedule kind, not a silent 0 %
            raise ValueError(f"{market.market} {plan_type}: interest on a {product.interval_days}-day product")
        parts, charge = split_evenly(amount, product.installments), 0
    else:
        parts, charge = amortising_payments(amount, rate, product.installments)
    dates = due_dates(product, product.installments, start)
    installments = tuple(
        ScheduledInstallment(sequence=i + 1, due_date=d, amount=a)
        for i, (d, a) in enumerate(zip(dates, parts, strict=True))
    )
    return Schedule(
        amount_financed=amount,
        finance_charge=charge,
        total_of_payments=sum(parts),
        apr_basis_points=rate,
        installments=installments,
        rate=disclosed_rate(
            market, product, start=start, amount_financed=amount, installments=list(zip(dates, parts, strict=True))
        ),
        market_version=market.version,
    )
