"""Affordability counts the declared debt, the shopper's own running plans, and for pay in 4
everything due in its first 30 days."""

from __future__ import annotations

from datetime import date, timedelta

from bnpl_common.money import split_evenly
from bnpl_credit.markets.affordability import Assessment, Shortfall, assess, debt_service, explain
from bnpl_credit.markets.catalog import AffordabilityRules
from bnpl_credit.markets.interest import Installment

TODAY = date(2026, 11, 29)
RULES = AffordabilityRules(stress_buffer_percent=10, assumed_debt_rate_basis_points=1000, assumed_debt_term_months=36)
SHARE = 35


def pay_in_4(amount: int, start: date = TODAY) -> list[Installment]:
    return [Installment(start + timedelta(days=14 * k), a) for k, a in enumerate(split_evenly(amount, 4))]


def check(
    new_plan: list[Installment],
    *,
    income: int,
    expenses: int,
    debt: int = 0,
    own: list[Installment] | None = None,
    is_pay_in_4: bool = True,
) -> Assessment:
    return assess(
        RULES,
        share_percent=SHARE,
        today=TODAY,
        monthly_income=income,
        monthly_expenses=expenses,
        declared_debt=debt,
        own_plans=own or [],
        new_plan=new_plan,
        pay_in_4=is_pay_in_4,
    )


def test_declared_debt_is_serviced_as_an_annuity() -> None:
    # 3 600.00 over 36 months at 10 %: 116.16 a month (textbook annuity), rounded up
    assert debt_service(3_600_00, rate_basis_points=1000, term_months=36) == 116_17
    assert debt_service(0, rate_basis_points=1000, term_months=36) == 0
    assert debt_service(3_600_00, rate_basis_points=0, term_months=36) == 100_00


def test_pay_in_4_counts_the_three_installments_of_its_first_30_days() -> None:
    # 1 200.00 in four: 300.00 now, after 14 and after 28 days = 900.00 in 30 days
    a = check(pay_in_4(1_200_00), income=2_000_00, expenses=1_000_00)
    assert a.needed == 900_00
    # one installment (300.00) is under 35 % of 900.00 (= 315.00); three are not
    assert a.allowed == 315_00 and a.shortfall is Shortfall.PAYMENTS_TOO_HIGH


def test_two_running_plans_and_a_pay_in_4_order_that_no_longer_fits() -> None:
    own = [*pay_in_4(400_00, TODAY - timedelta(days=28)), Installment(TODAY + timedelta(days=10), 150_00)]
    # due in the next 30 days on the shopper's own plans: 100 + 100 (pay in 4) + 150 (monthly)
    assert sum(i.amount for i in own if TODAY <= i.due < TODAY + timedelta(days=30)) == 350_00
    new = pay_in_4(400_00)  # 300.00 due in its first 30 days
    without = check(new, income=2_500_00, expenses=1_500_00)
    with_plans = check(new, income=2_500_00, expenses=1_500_00, own=own)
    assert without.affordable  # 300.00 <= 35 % of 900.00 (1 000.00 less the 10 % buffer)
    assert with_plans.own_plans == 350_00
    assert not with_plans.affordable and with_plans.shortfall is Shortfall.PAYMENTS_TOO_HIGH
    text = explain(with_plans, pay_in_4=True, money="EUR {:,.2f}")
    assert "first 30 days of this plan (EUR 300.00)" in text
    assert "EUR 350.00 due on your other plans with us" in text


def test_monthly_plans_are_checked_against_their_monthly_payment() -> None:
    plan = [Installment(TODAY + timedelta(days=30 * k), 100_00) for k in range(1, 13)]
    a = check(plan, income=1_500_00, expenses=1_000_00, is_pay_in_4=False)
    assert a.needed == 100_00 and a.allowed == 157_50 and a.affordable


def test_nothing_left_names_the_debt_that_took_it() -> None:
    a = check(pay_in_4(100_00), income=1_200_00, expenses=1_100_00, debt=3_600_00)
    assert a.disposable == 100_00 - 116_17 and a.shortfall is Shortfall.NO_DISPOSABLE_INCOME
    text = explain(a, pay_in_4=True, money="GBP {:,.2f}")
    assert text.startswith("Nothing is left each month") and "GBP 116.17 a month for the debts" in text
