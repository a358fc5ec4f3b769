"""Interest that follows the money on a stored plan: the payoff quote, settling early through a
payment, withdrawing, and the schedule a partial refund leaves.

The arithmetic is :mod:`bnpl_credit.markets.interest` (pure, on dates and amounts); this maps a
plan onto it and the answer back onto the plan's installments. A plan's own rate per month is
solved from its original schedule (principal on the day it was opened, installments as
scheduled), so every recomputation discounts at the rate the shopper agreed to. Interest-free
plans (pay in 4) have nothing to rebate: their quote is what is owed and a refund keeps coming
off the last installments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bnpl_credit.errors import PlanNotActive, WithdrawalNotAllowed
from bnpl_credit.markets import interest
from bnpl_credit.markets.catalog import Market
from bnpl_credit.plans.ledger import Plan, Recomputation
from bnpl_credit.plans.model import Allocation, PlanStatus


def monthly_rate(plan: Plan) -> float:
    """The plan's own rate per month (0 for an interest-free plan)."""
    t = plan.terms
    if t.finance_charge == 0:
        return 0.0
    scheduled = [interest.Installment(i.due_date, i.amount) for i in plan.installments]
    return interest.monthly_rate_of(t.principal, t.created_at.date(), scheduled)


def _unpaid(plan: Plan) -> list[interest.Installment]:
    return [interest.Installment(i.due_date, i.unpaid) for i in plan.installments if i.unpaid > 0]


def payoff_quote(plan: Plan, today: date) -> interest.PayoffQuote:
    """What settles ``plan`` today: the installments still to come at their value today (EU
    Art. 29, UK 2004 Regulations, US actuarial: no unearned interest), overdue ones in full."""
    if plan.status is not PlanStatus.ACTIVE:
        raise PlanNotActive(f"nothing is owed on a {plan.status} plan", field="planId", info={"status": plan.status})
    return interest.payoff_quote(today, _unpaid(plan), monthly_rate(plan))


def take_payment(plan: Plan, amount: int, currency: str, today: date) -> tuple[tuple[Allocation, ...], int, int]:
    """A repayment, oldest installment first. A payment that reaches the payoff quote settles the
    plan early: only the payoff amount is taken and the interest not yet earned is cancelled
    (paying the whole schedule early never costs unearned interest). More than is owed is
    refused. The allocations, the amount taken and the interest cancelled."""
    if plan.status is PlanStatus.ACTIVE and plan.terms.finance_charge > 0 and currency == plan.currency:
        quote = payoff_quote(plan, today)
        if quote.rebate > 0 and quote.amount <= amount <= plan.totals().amount_outstanding:
            allocations = plan.take_payment(quote.amount, currency, today)
            plan.cancel_interest(quote.rebate, today)
            return allocations, quote.amount, quote.rebate
    return plan.take_payment(amount, currency, today), amount, 0


def refund_recomputation(plan: Plan, amount: int, today: date) -> Recomputation | None:
    """The schedule a partial refund of ``amount`` leaves on a plan with interest: the
    installments still to come recomputed at the plan's rate on the same dates, so interest is
    charged only on what is still financed (None: interest-free, or a full refund, which cancels
    everything anyway)."""
    t = plan.terms
    if t.finance_charge == 0 or plan.status is not PlanStatus.ACTIVE or plan.refunded + amount >= t.principal:
        return None
    unpaid = _unpaid(plan)
    if not unpaid or amount <= 0:
        return None
    rate = monthly_rate(plan)
    recomputed = interest.after_refund(today, unpaid, rate, refund=amount)
    sequence_of = {i.due_date: i.sequence for i in plan.installments if i.unpaid > 0}
    targets = {sequence_of[i.due]: i.amount for i in recomputed.installments}
    if not recomputed.installments:  # the refund covers the payoff: all unearned interest goes
        cancelled = interest.payoff_quote(today, unpaid, rate).rebate
    else:
        cancelled = max(sum(i.amount for i in unpaid) - sum(targets.values()) - amount, 0)
    return Recomputation(unpaid=targets, interest_cancelled=cancelled)


@dataclass(frozen=True, slots=True)
class WithdrawalTerms:
    """What withdrawing costs today: the principal still financed and the interest for the
    days used, less what was already paid (``to_pay``), or what was paid beyond it, given back
    (``to_return``)."""

    principal: int
    interest: int
    days: int
    to_pay: int
    to_return: int = 0


def withdrawal_terms(plan: Plan, market: Market, today: date) -> WithdrawalTerms:
    """EU Art. 26 / UK CCA s. 66A: within the market's period the shopper repays the principal
    with interest at the borrowing rate for the days used, simple; nothing else is charged."""
    if plan.status is not PlanStatus.ACTIVE:
        raise PlanNotActive(f"a {plan.status} plan cannot be withdrawn from", field="planId")
    drawn = plan.terms.created_at.date()
    days = (today - drawn).days
    if market.withdrawal_days == 0:
        raise WithdrawalNotAllowed(f"plans in {market.currency} have no withdrawal period", field="planId")
    if days > market.withdrawal_days:
        raise WithdrawalNotAllowed(
            f"the {market.withdrawal_days}-day withdrawal period ended on day {days}",
            field="planId",
            info={"withdrawalDays": market.withdrawal_days},
        )
    principal = plan.terms.principal - plan.refunded
    charged = interest.withdrawal_interest(principal, plan.terms.apr_basis_points, drawn=drawn, repaid=today)
    totals = plan.totals()
    to_pay = principal + charged - totals.amount_paid
    if to_pay < 0:  # paid ahead (and a refund lowered the principal): the excess goes back
        return WithdrawalTerms(principal, charged, days, 0, to_return=-to_pay)
    return WithdrawalTerms(principal, charged, days, min(to_pay, totals.amount_outstanding))


def withdraw(plan: Plan, terms: WithdrawalTerms, today: date) -> tuple[tuple[Allocation, ...], tuple[Allocation, ...]]:
    """Pay ``terms.to_pay``, cancel everything else still owed, give back ``terms.to_return``,
    mark the plan withdrawn. The payment's allocations and the returns."""
    allocations = plan.take_payment(terms.to_pay, plan.currency, today) if terms.to_pay else ()
    plan.cancel_interest(plan.totals().amount_outstanding, today)
    returns = plan.give_back(terms.to_return, today) if terms.to_return else ()
    plan.mark_withdrawn(today)
    return allocations, returns
