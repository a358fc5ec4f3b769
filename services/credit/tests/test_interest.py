"""Interest that follows the money, with the figures stated: the plan of the market issue,
1 000.00 over 12 months at 24.99 % (installments of 95.04 and a last of 95.05, 140.49 of
interest), settled early, withdrawn from, and half refunded."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from bnpl_credit.decision.schedule import add_months, amortising_payments
from bnpl_credit.markets.interest import (
    Installment,
    after_refund,
    monthly_rate_of,
    payoff_quote,
    withdrawal_interest,
)

START = date(2026, 12, 1)


def plan(principal: int = 1_000_00, rate_bp: int = 2499, months: int = 12) -> tuple[list[Installment], float]:
    payments, _ = amortising_payments(principal, rate_bp, months)
    installments = [Installment(add_months(START, k), a) for k, a in enumerate(payments, 1)]
    return installments, monthly_rate_of(principal, START, installments)


def test_the_plan() -> None:
    installments, rate = plan()
    assert [i.amount for i in installments] == [95_04] * 11 + [95_05]
    assert sum(i.amount for i in installments) - 1_000_00 == 140_49
    assert rate * 12 == pytest.approx(0.2499, abs=1e-4)


def test_settling_on_the_first_day_costs_the_principal_and_rebates_all_interest() -> None:
    installments, rate = plan()
    quote = payoff_quote(START, installments, rate)
    assert (quote.amount, quote.rebate) == (1_000_00, 140_49)


def test_settling_after_15_days_pays_15_days_of_interest() -> None:
    installments, rate = plan()
    quote = payoff_quote(START + timedelta(days=15), installments, rate)
    # 1 000.00 x (1 + 0.2499 / 12) ** (15 / (365 / 12)) = 1 010.22
    assert quote.amount == 1_010_22
    assert quote.rebate == 1_140_49 - 1_010_22


def test_settling_on_a_due_date_pays_the_balance_still_financed() -> None:
    installments, rate = plan()
    quote = payoff_quote(add_months(START, 3), installments[3:], rate)
    # the balance after three installments of 95.04, by the annuity's own arithmetic
    balance = 1_000_00
    for _ in range(3):
        balance += round(balance * 0.2499 / 12) - 95_04
    assert abs(quote.amount - balance) <= 1  # the schedule rounded each month's interest on its own
    assert quote.rebate == 9 * 95_04 + 1 - quote.amount


def test_overdue_installments_are_owed_in_full() -> None:
    installments, rate = plan()
    on_time = payoff_quote(add_months(START, 1), installments[1:], rate)
    late = payoff_quote(add_months(START, 1), installments, rate)
    assert late.amount == on_time.amount + 95_04


def test_half_refunded_on_the_first_day_charges_interest_on_500_only() -> None:
    installments, rate = plan()
    left = after_refund(START, installments, rate, refund=500_00)
    assert left.returned_to_shopper == 0
    assert [i.amount for i in left.installments] == [47_52] * 12
    interest = sum(i.amount for i in left.installments) - 500_00
    assert interest == 70_24  # not 140.49: what a 500.00 plan at 24.99 % costs (70.23 by its own rounding)
    assert [i.due for i in left.installments] == [i.due for i in installments]


def test_a_partial_refund_midway_lowers_the_rest_and_keeps_the_dates() -> None:
    installments, rate = plan()
    left = after_refund(add_months(START, 6), installments[6:], rate, refund=200_00)
    assert [i.amount for i in left.installments] == [59_24] * 5 + [59_22]
    before = payoff_quote(add_months(START, 6), installments[6:], rate).amount
    after = payoff_quote(add_months(START, 6), list(left.installments), rate).amount
    assert abs(before - 200_00 - after) <= 1


def test_a_full_refund_cancels_every_installment_and_its_interest() -> None:
    installments, rate = plan()
    assert after_refund(START, installments, rate, refund=1_000_00).installments == ()
    excess = after_refund(START, installments, rate, refund=1_050_00)
    assert excess.installments == () and excess.returned_to_shopper == 50_00


def test_a_refund_pays_overdue_installments_first() -> None:
    installments, rate = plan()
    left = after_refund(add_months(START, 2), installments, rate, refund=100_00)
    # the first installment (95.04) was overdue: it is settled, 4.96 lowers the rest
    assert left.installments[0].due == installments[1].due
    assert all(i.amount < 95_04 for i in left.installments[1:])


def test_withdrawal_charges_simple_interest_at_the_borrowing_rate_for_the_days_used() -> None:
    # 1 000.00 x 24.99 % x 10 / 365 = 6.846...: 6.84, rounded down
    assert withdrawal_interest(1_000_00, 2499, drawn=START, repaid=START + timedelta(days=10)) == 6_84
    assert withdrawal_interest(1_000_00, 0, drawn=START, repaid=START + timedelta(days=10)) == 0
    assert withdrawal_interest(1_000_00, 2499, drawn=START, repaid=START) == 0
    with pytest.raises(ValueError):
        withdrawal_interest(1_000_00, 2499, drawn=START, repaid=START - timedelta(days=1))


@pytest.mark.parametrize("months", [3, 6, 12])
@pytest.mark.parametrize("rate_bp", [999, 2499])
@pytest.mark.parametrize("principal", [200_00, 200_01, 4_999_99])
def test_payoff_never_exceeds_what_is_scheduled_and_falls_to_the_principal_at_the_start(
    months: int, rate_bp: int, principal: int
) -> None:
    installments, rate = plan(principal, rate_bp, months)
    assert payoff_quote(START, installments, rate).amount == principal
    for day in range(0, 31 * months, 9):
        as_of = START + timedelta(days=day)
        unpaid = [i for i in installments if i.due >= as_of]
        quote = payoff_quote(as_of, unpaid, rate)
        assert 0 <= quote.amount <= quote.remaining
