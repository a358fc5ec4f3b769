"""Interest that follows the money on the plan aggregate, over a grid: every product with
interest, amounts at the limits and odd cents, refunds and payoffs on several days. After each
change the plan's own balance check runs (it raises on a broken equation); here also: nothing
due is negative, a refund never costs the shopper more, and the interest left never exceeds the
interest of what is still financed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from bnpl_credit.decision.schedule import build_schedule
from bnpl_credit.markets.catalog import load_catalog
from bnpl_credit.plans import interest
from bnpl_credit.plans.ledger import Installment, Plan, PlanTerms
from bnpl_credit.plans.model import PlanStatus

MARKETS = load_catalog()
EU = MARKETS.for_currency("EUR")
assert EU is not None
START = date(2027, 1, 31)  # a month end: February clamps


def new_plan(product: str, amount: int, grade: str) -> Plan:
    assert EU is not None
    schedule = build_schedule(EU, product, amount=amount, grade=grade, start=START)
    terms = PlanTerms(
        id="p",
        customer_id="c",
        application_id="a",
        plan_type=product,  # type: ignore[arg-type] - a product name of the market file
        merchant_id="m",
        order_reference="o",
        currency="EUR",
        principal=amount,
        finance_charge=schedule.finance_charge,
        total_of_payments=schedule.total_of_payments,
        apr_basis_points=schedule.apr_basis_points,
        created_at=datetime(START.year, START.month, START.day, 12, tzinfo=UTC),
        rate=schedule.rate,
    )
    return Plan(terms, [Installment(i.sequence, i.due_date, i.amount) for i in schedule.installments])


GRID = [
    (product, amount, grade)
    for product in ("MONTHLY_3", "MONTHLY_6", "MONTHLY_12")
    for amount in (EU.product(product).min_amount, 123_457, EU.product(product).max_amount)
    for grade in ("A", "D")
]


@pytest.mark.parametrize(("product", "amount", "grade"), GRID)
@pytest.mark.parametrize("day", [0, 1, 29, 45])
def test_partial_refunds_recompute_within_the_ledger(product: str, amount: int, grade: str, day: int) -> None:
    plan = new_plan(product, amount, grade)
    today = START + timedelta(days=day)
    before = plan.totals().amount_outstanding
    refund = amount // 3 + 1
    recomputed = interest.refund_recomputation(plan, refund, today)
    assert recomputed is not None
    plan.refund(refund, "EUR", today, recomputed=recomputed)
    after = plan.totals()
    assert all(i.due >= 0 for i in plan.installments)
    assert after.amount_outstanding <= before - refund  # the refund and then some interest come off
    assert after.credited == refund and after.rebated == recomputed.interest_cancelled
    # what is left is the remaining principal plus at most the interest a fresh plan would charge on it
    fresh = new_plan(product, amount - refund, grade) if amount - refund >= EU.product(product).min_amount else None
    if fresh is not None and day == 0:
        assert abs(after.amount_outstanding - fresh.totals().amount_outstanding) <= len(plan.installments)


@pytest.mark.parametrize(("product", "amount", "grade"), GRID)
@pytest.mark.parametrize("day", [0, 14, 31, 60])
def test_paying_the_payoff_settles_with_the_rebate(product: str, amount: int, grade: str, day: int) -> None:
    plan = new_plan(product, amount, grade)
    today = START + timedelta(days=day)
    quote = interest.payoff_quote(plan, today)
    assert amount <= quote.amount <= quote.remaining
    _, taken, rebate = interest.take_payment(plan, quote.remaining, "EUR", today)
    assert (taken, rebate) == (quote.amount, quote.rebate)
    assert plan.status is PlanStatus.COMPLETED and plan.totals().amount_outstanding == 0
    assert plan.totals().amount_paid + plan.totals().rebated == quote.remaining


def test_a_pay_in_4_refund_still_comes_off_the_last_installments() -> None:
    plan = new_plan("PAY_IN_4", 10_000, "A")
    assert interest.refund_recomputation(plan, 2_500, START) is None
    outcome = plan.refund(2_500, "EUR", START)
    assert [c.sequence for c in outcome.credits] == [4]
