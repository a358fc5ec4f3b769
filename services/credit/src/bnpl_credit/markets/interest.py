"""Interest that follows the money: early settlement, withdrawal, and a schedule recomputed after
a partial refund. Pure integer arithmetic over a plan's remaining installments.

One idea serves all three markets: on any date, what the shopper owes is the value on that date
of the installments still to come, discounted at the plan's own rate per month
(:func:`monthly_rate_of`: the rate at which the plan's actual, rounded installments repay its
principal, so that settling on the first day costs exactly the principal). On a due date that
is the balance still financed; between due dates it adds the interest earned for the days used
and nothing for the days not used.

- EU (Directive 2023/2225 Art. 29): the shopper who repays early is entitled to a reduction in
  the total cost of the credit for the remaining duration: the rebate is every scheduled
  installment still to come less that value. The directive allows the creditor a capped
  compensation (1 % of the amount repaid early, 0.5 % within a year of the end); this platform
  claims none.
- UK (Consumer Credit (Early Settlement) Regulations 2004, reg. 4): the rebate is at least the
  difference between the remaining repayments and their value at the settlement date discounted
  at the APR; yearly compounding at the APRC equals monthly compounding at ``monthly_rate`` over
  equal months, so it is the same figure. Reg. 6 defers the settlement date only for agreements
  longer than a year, which no plan here is.
- US: the actuarial method earns no unearned interest: the payoff is the same figure.

Withdrawal (EU Art. 26, UK CCA s. 66A: 14 days) is different: the shopper repays the principal
with interest at the borrowing rate for the days the credit was used, simple, not compounded.

Amounts are rounded in the shopper's favour (a payoff down, a rebate up, withdrawal interest
down), so no rounding ever takes more than the rule allows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from bnpl_credit.markets.rates import Interval, solve_rate, years_between


@dataclass(frozen=True, slots=True)
class Installment:
    due: date
    amount: int


@dataclass(frozen=True, slots=True)
class PayoffQuote:
    """What settles the plan on ``as_of``: ``amount`` now instead of ``remaining`` later."""

    as_of: date
    amount: int
    remaining: int  # the installments still to come, as scheduled

    @property
    def rebate(self) -> int:
        return self.remaining - self.amount


def _months(as_of: date, due: date) -> float:
    """Months from ``as_of`` to ``due``: whole months, then days as a fraction of a month."""
    return 12 * years_between(as_of, due, Interval.EQUAL_MONTHS)


def monthly_rate_of(principal: int, start: date, installments: Sequence[Installment]) -> float:
    """The plan's own rate per month: at it, the installments are worth the principal on ``start``."""
    flows = [(0.0, float(principal))] + [(_months(start, i.due), -float(i.amount)) for i in installments]
    return solve_rate(flows)


def value_on(as_of: date, installments: Sequence[Installment], monthly_rate: float) -> float:
    """The value on ``as_of`` of the installments due after it, discounted at ``monthly_rate``."""
    return float(sum(i.amount * (1.0 + monthly_rate) ** -_months(as_of, i.due) for i in installments if i.due >= as_of))


def payoff_quote(as_of: date, unpaid: Sequence[Installment], monthly_rate: float) -> PayoffQuote:
    """Early settlement of the ``unpaid`` installments on ``as_of`` (overdue ones count in full)."""
    overdue = sum(i.amount for i in unpaid if i.due < as_of)
    upcoming = [i for i in unpaid if i.due >= as_of]
    value = math.floor(value_on(as_of, upcoming, monthly_rate) + 1e-6)
    remaining = overdue + sum(i.amount for i in upcoming)
    return PayoffQuote(as_of=as_of, amount=min(remaining, overdue + value), remaining=remaining)


def withdrawal_interest(principal: int, annual_rate_basis_points: int, *, drawn: date, repaid: date) -> int:
    """Interest at the borrowing rate for the days the credit was used, simple (EU Art. 26,
    UK s. 66A), rounded down: principal x rate x days / 365."""
    days = (repaid - drawn).days
    if days < 0:
        raise ValueError("repaid before drawn")
    exact = Decimal(principal) * Decimal(annual_rate_basis_points) / Decimal(10_000) * Decimal(days) / Decimal(365)
    return int(exact.to_integral_value(rounding=ROUND_FLOOR))


@dataclass(frozen=True, slots=True)
class Recomputed:
    """The schedule left after a refund: ``installments`` (possibly none) and any excess the
    refund returns to the shopper beyond what was still owed."""

    installments: tuple[Installment, ...]
    returned_to_shopper: int


def after_refund(as_of: date, unpaid: Sequence[Installment], monthly_rate: float, *, refund: int) -> Recomputed:
    """A refund of ``refund`` on ``as_of`` reduces what is financed; the installments still to
    come are recomputed at the same rate on the same dates, so interest is charged only on what
    is still financed. A refund of everything owed (or more) ends the plan: every installment is
    cancelled with its unearned interest, and the excess goes back to the shopper."""
    if refund <= 0:
        raise ValueError("a refund is a positive amount")
    quote = payoff_quote(as_of, unpaid, monthly_rate)
    if refund >= quote.amount:
        return Recomputed(installments=(), returned_to_shopper=refund - quote.amount)
    overdue = [i for i in unpaid if i.due < as_of]
    upcoming = [i for i in unpaid if i.due >= as_of]
    # The refund settles overdue installments first (oldest first), then lowers the balance.
    left = refund
    kept_overdue: list[Installment] = []
    for inst in overdue:
        paid = min(left, inst.amount)
        left -= paid
        if inst.amount - paid:
            kept_overdue.append(Installment(inst.due, inst.amount - paid))
    if not upcoming:
        return Recomputed(installments=tuple(kept_overdue), returned_to_shopper=0)
    balance = value_on(as_of, upcoming, monthly_rate) - left
    factors = [(1.0 + monthly_rate) ** -_months(as_of, i.due) for i in upcoming]
    level = Decimal(repr(balance / sum(factors))).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    amounts = [int(level)] * len(upcoming)
    # the last installment absorbs the rounding, so the new schedule's value is the balance
    residual = balance - sum(a * f for a, f in zip(amounts[:-1], factors[:-1], strict=True))
    amounts[-1] = max(0, round(residual / factors[-1]))
    new = [Installment(i.due, a) for i, a in zip(upcoming, amounts, strict=True) if a > 0]
    return Recomputed(installments=(*kept_overdue, *new), returned_to_shopper=0)
