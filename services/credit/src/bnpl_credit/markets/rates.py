"""The annual rate each market requires a lender to disclose, computed from the cash flows.

EU and UK: the annual percentage rate of charge (APRC). Directive (EU) 2023/2225 Annex III
Part I (the same equation as Directive 2008/48/EC Annex I, kept in the UK by the Consumer
Credit (Total Charge for Credit) Regulations 2010 and CONC App 1.2) equates, with yearly
compounding, the present value of the drawdowns with that of the repayments and charges:

    sum_k C_k (1 + X) ** -t_k  ==  sum_l D_l (1 + X) ** -s_l

with every interval measured in years from the first drawdown. Remark (c): a year is 365 days
(366 in a leap year), 52 weeks or 12 equal months. Remark (d): at least one decimal place,
a following figure of 5 or more rounding up. Because compounding is yearly, a 24.99 % nominal
rate paid monthly is an APRC of about 28.06 %, not 24.99 %.

US: the annual percentage rate of Regulation Z (12 CFR 1026.22 and Appendix J), by the
actuarial method: the rate per unit period (the common interval between payments) at which the
payments, discounted over whole unit periods, equal the amount financed, multiplied by the
number of unit periods in a year. A disclosed APR is accurate when it is within 1/8 of a
percentage point of that figure (1026.22(a)(2)); it is disclosed to two decimals here.

How intervals are counted (:class:`Interval`): a plan's own dates are whole periods after its
start (the schedule builds them so, month ends clamped), so they count as whole equal months or
weeks. Any other date (a refund, an early settlement) counts as whole years back from it and then
days over the length of the year counted back (365 or 366), as the examples of Directive 98/7/EC
Annex III do on the calendar basis.

The solver is plain float Newton iteration with a bisection fallback (a plan's rate is needed on
every offer, so it must take microseconds, not the milliseconds of decimal powers); only when the
rounded figure sits within 1e-9 of a rounding boundary is the tie settled with :mod:`decimal`.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum


class RateKind(StrEnum):
    APRC = "APRC"  # EU, UK: yearly compounding over the actual cash flows
    APR = "APR"  # US: Regulation Z actuarial rate per unit period, times periods per year


class Interval(StrEnum):
    """How an interval between two dates is expressed in years."""

    EQUAL_MONTHS = "EQUAL_MONTHS"  # whole months of 1/12 year, then days over 365 (366)
    WEEKS = "WEEKS"  # whole weeks of 1/52 year, then days over 365 (366)
    DAYS = "DAYS"  # whole years back from the date, then days over 365 (366)


@dataclass(frozen=True, slots=True)
class CashFlow:
    """An amount in minor units changing hands on a date (a drawdown or a repayment)."""

    on: date
    amount: int


def _add_months(start: date, months: int) -> date:
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def _year_back(day: date) -> date:
    """The same day a year earlier (29 February goes back to 28 February)."""
    return _add_months(day, -12)


def _days_in_year_ending(day: date) -> int:
    """365, or 366 when the year counted back from ``day`` holds a 29 February."""
    return (day - _year_back(day)).days


def years_between(start: date, end: date, interval: Interval) -> float:
    """The interval from ``start`` to ``end`` in years, as Annex III remark (c) expresses it."""
    if end < start:
        raise ValueError("a cash flow cannot come before the first drawdown")
    if interval is Interval.EQUAL_MONTHS:
        months = (end.year - start.year) * 12 + end.month - start.month
        while months > 0 and _add_months(start, months) > end:
            months -= 1
        rest = (end - _add_months(start, months)).days
        return months / 12 + rest / _days_in_year_ending(end)
    if interval is Interval.WEEKS:
        weeks, rest = divmod((end - start).days, 7)
        return weeks / 52 + rest / _days_in_year_ending(end)
    years = 0
    anchor = end
    while _year_back(anchor) >= start:
        anchor = _year_back(anchor)
        years += 1
    return years + (anchor - start).days / _days_in_year_ending(anchor)


def _net_present_value(rate: float, flows: Sequence[tuple[float, float]]) -> float:
    return float(sum(amount * (1.0 + rate) ** -t for t, amount in flows))


def _derivative(rate: float, flows: Sequence[tuple[float, float]]) -> float:
    return float(sum(-t * amount * (1.0 + rate) ** (-t - 1.0) for t, amount in flows))


def solve_rate(flows: Sequence[tuple[float, float]]) -> float:
    """The rate at which the signed flows (drawdowns +, repayments -) are worth zero today."""
    if abs(sum(a for _, a in flows)) < 1e-12:
        return 0.0
    rate = 0.1
    for _ in range(50):
        value = _net_present_value(rate, flows)
        slope = _derivative(rate, flows)
        if slope == 0:
            break
        step = value / slope
        rate -= step
        if rate <= -0.99:
            break
        if abs(step) < 1e-15:
            return rate
    # Newton wandered off (a very short or very expensive credit): bisection always converges,
    # since more repaid than lent makes the value fall as the rate rises.
    low, high = -0.99, 1.0
    while _net_present_value(high, flows) < 0:
        high *= 2
        if high > 1e9:
            raise ValueError("no rate makes these cash flows equivalent")
    for _ in range(200):
        mid = (low + high) / 2
        if _net_present_value(mid, flows) > 0:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def _round_percent(rate: float, decimals: int, exact: Decimal | None = None) -> Decimal:
    """``rate`` as a percentage rounded half up to ``decimals`` places (remark (d))."""
    quantum = Decimal(1).scaleb(-decimals)
    percent = Decimal(repr(rate * 100)) if exact is None else exact
    return percent.quantize(quantum, rounding=ROUND_HALF_UP)


def _near_boundary(rate: float, decimals: int) -> bool:
    scaled = rate * 100 * 10**decimals
    return bool(abs(scaled - math.floor(scaled) - 0.5) < 1e-9 * max(1.0, abs(scaled)))


def _decimal_rate(flows: Sequence[tuple[float, float]], guess: float) -> Decimal:
    """The same root in 40-digit decimal arithmetic, to settle a figure that sits on a boundary."""
    with localcontext() as ctx:
        ctx.prec = 40
        dflows = [(Decimal(repr(t)), Decimal(repr(a))) for t, a in flows]
        rate = Decimal(repr(guess))
        for _ in range(20):
            value = sum((a * (1 + rate) ** -t for t, a in dflows), Decimal(0))
            slope = sum((-t * a * (1 + rate) ** (-t - 1) for t, a in dflows), Decimal(0))
            step = value / slope
            rate -= step
            if abs(step) < Decimal("1e-30"):
                break
        # 40 digits leave the last few uncertain: a figure exactly on a boundary may come out as
        # ...4999 in the 38th place, so keep 20 places, far beyond any disclosure's precision.
        return (rate * 100).quantize(Decimal("1e-20"))


def aprc(
    drawdowns: Sequence[CashFlow],
    repayments: Sequence[CashFlow],
    *,
    interval: Interval,
    decimals: int = 1,
) -> Decimal:
    """The APRC in percent, rounded half up to ``decimals`` places (EU, UK)."""
    if not drawdowns or not repayments:
        raise ValueError("an APRC needs at least one drawdown and one repayment")
    first = min(flow.on for flow in drawdowns)
    flows = [(years_between(first, f.on, interval), float(f.amount)) for f in drawdowns]
    flows += [(years_between(first, f.on, interval), -float(f.amount)) for f in repayments]
    rate = solve_rate(flows)
    if _near_boundary(rate, decimals):
        return _round_percent(rate, decimals, _decimal_rate(flows, rate))
    return _round_percent(rate, decimals)


def regulation_z_apr(
    amount_financed: int, payments: Sequence[int], *, periods_per_year: int, decimals: int = 2
) -> Decimal:
    """The actuarial APR in percent of a regular transaction (US): payment ``k`` falls ``k``
    whole unit periods after the loan; APR = rate per unit period x unit periods per year."""
    if amount_financed <= 0 or not payments:
        raise ValueError("an APR needs an amount financed and at least one payment")
    flows = [(0.0, float(amount_financed))] + [(float(k), -float(p)) for k, p in enumerate(payments, 1)]
    per_period = solve_rate(flows)
    annual = per_period * periods_per_year
    if _near_boundary(annual, decimals):
        return _round_percent(annual, decimals, _decimal_rate(flows, per_period) * periods_per_year)
    return _round_percent(annual, decimals)
