"""Schedules: exact sums, due dates, amortisation, and the rate each market discloses."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from bnpl_credit.decision.schedule import add_months, amortising_payments, build_schedule
from bnpl_credit.markets.catalog import load_catalog
from bnpl_credit.markets.rates import RateKind

MARKETS = load_catalog()
EU = MARKETS.for_currency("EUR")
UK = MARKETS.for_currency("GBP")
US = MARKETS.for_currency("USD")
assert EU is not None and UK is not None and US is not None
START = date(2026, 1, 31)


def test_pay_in_4_splits_evenly_every_14_days() -> None:
    s = build_schedule(EU, "PAY_IN_4", amount=10_001, grade="C", start=START)
    assert [i.amount for i in s.installments] == [2501, 2500, 2500, 2500]
    assert [i.due_date for i in s.installments] == [
        date(2026, 1, 31),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 3, 14),
    ]
    assert s.finance_charge == 0 and s.apr_basis_points == 0 and s.total_of_payments == 10_001


def test_monthly_schedule_known_values() -> None:
    # 1000.00 over 12 months at 9.99 % APR: level payment 87.91
    s = build_schedule(EU, "MONTHLY_12", amount=100_000, grade="A", start=START)
    amounts = [i.amount for i in s.installments]
    assert amounts[0] == 8791
    assert 5_400 < s.finance_charge < 5_600
    assert sum(amounts) == s.total_of_payments == 100_000 + s.finance_charge
    assert s.apr_basis_points == 999
    assert [i.due_date for i in s.installments][:3] == [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]


def test_exact_sum_invariant_over_many_amounts_terms_and_rates() -> None:
    for n in (3, 6, 12):
        for apr in (0, 1, 999, 1499, 1999, 2499, 9999):
            for amount in list(range(1, 400, 7)) + list(range(10_000, 500_001, 4_999)):
                payments, interest = amortising_payments(amount, apr, n)
                assert len(payments) == n
                assert sum(payments) == amount + interest, (amount, apr, n)
                assert all(p >= 0 for p in payments)
                assert interest >= 0
                # level payments: only the last may differ, by rounding
                if amount >= 10_000:
                    assert max(payments[:-1]) - min(payments[:-1]) == 0 or apr == 0
                    assert abs(payments[-1] - payments[0]) <= n


def test_pay_in_4_sum_invariant() -> None:
    for amount in range(1_000, 100_001, 97):
        s = build_schedule(EU, "PAY_IN_4", amount=amount, grade="C", start=START)
        parts = [i.amount for i in s.installments]
        assert sum(parts) == amount and max(parts) - min(parts) <= 1


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)


# -- Regulation Z: the disclosed APR against the rounded schedule -------------------------------

REG_Z_TOLERANCE_PERCENT = 0.125  # 12 CFR 1026.22(a)(2): 1/8 of 1 percentage point, regular transactions


def actuarial_apr_percent(amount_financed: int, payments: list[int]) -> float:
    """The APR of a schedule of monthly payments by the actuarial method of 12 CFR 1026
    Appendix J: the monthly rate ``i`` at which the payments, each discounted over its whole
    unit periods (payment k after k months), equal the amount financed; APR = 12 i."""

    def present_value(rate: float) -> float:
        return sum(p / (1 + rate) ** k for k, p in enumerate(payments, 1))

    low, high = 0.0, 1.0
    for _ in range(60):  # 2**-60: far below a thousandth of a basis point
        mid = (low + high) / 2
        if present_value(mid) > amount_financed:
            low = mid
        else:
            high = mid
    return 12 * 100 * (low + high) / 2


def _amounts(plan_min: int, plan_max: int) -> list[int]:
    """Both ends, every amount just above the minimum (where a cent weighs most), and a spread."""
    edge = list(range(plan_min, plan_min + 100))
    spread = list(range(plan_min, plan_max + 1, max((plan_max - plan_min) // 200, 1)))
    odd = [plan_min + (k * 7_919) % (plan_max - plan_min + 1) for k in range(150)]
    return sorted({*edge, *spread, *odd, plan_max})


def test_disclosed_apr_matches_the_rounded_schedule_within_regulation_z_tolerance() -> None:
    checked = 0
    worst = 0.0
    for plan_type in ("MONTHLY_3", "MONTHLY_6", "MONTHLY_12"):
        plan = US.product(plan_type)
        for grade, apr_bp in plan.rate_basis_points.items():
            for amount in _amounts(plan.min_amount, plan.max_amount):
                s = build_schedule(US, plan_type, amount=amount, grade=grade, start=START)
                payments = [i.amount for i in s.installments]
                assert sum(payments) == s.amount_financed + s.finance_charge  # exact, cent for cent
                actual = actuarial_apr_percent(s.amount_financed, payments)
                error = abs(actual - apr_bp / 100)
                worst = max(worst, error)
                assert error <= REG_Z_TOLERANCE_PERCENT, (plan_type, grade, amount, payments, actual)
                checked += 1
    assert checked > 4_000
    assert worst < 0.1  # measured 0.064-0.073 near 100.00 over 3 months: half-cent roundings of a small charge


def test_interest_free_plans_disclose_zero_apr_and_no_finance_charge() -> None:
    plan = EU.product("PAY_IN_4")
    for amount in _amounts(plan.min_amount, plan.max_amount):
        s = build_schedule(EU, "PAY_IN_4", amount=amount, grade="C", start=START)
        assert s.apr_basis_points == 0 and s.finance_charge == 0 and s.total_of_payments == amount
        assert s.rate.annual_rate == 0


def test_the_apr_check_itself_knows_a_textbook_loan() -> None:
    # 1 000.00 over 12 months at 12 % APR (1 % a month): level payment 88.85 (textbook annuity)
    assert abs(actuarial_apr_percent(100_000, [8_885] * 12) - 12.0) < 0.01
    assert actuarial_apr_percent(100_000, [25_000] * 4) < 1e-9


# -- the rate each market discloses --------------------------------------------------------------


@pytest.mark.parametrize(
    ("market", "kind", "label", "annual_rate"),
    [
        (EU, RateKind.APRC, "APRC", Decimal("28.1")),  # the market issue's figure: 24.99 % nominal
        (UK, RateKind.APRC, "APR", Decimal("28.1")),  # the same equation, the UK's name for it
        (US, RateKind.APR, "APR", Decimal("24.99")),  # Regulation Z: the actuarial rate, two decimals
    ],
)
def test_a_monthly_schedule_discloses_its_market_s_rate_not_the_nominal_one(
    market: object, kind: RateKind, label: str, annual_rate: Decimal
) -> None:
    s = build_schedule(market, "MONTHLY_12", amount=100_000, grade="D", start=date(2026, 11, 20))  # type: ignore[arg-type] - narrowed above
    assert s.apr_basis_points == 2499  # what the interest is computed at
    assert (s.rate.kind, s.rate.label, s.rate.annual_rate) == (kind, label, annual_rate)


def test_a_grade_the_market_has_no_rate_for_gets_no_schedule() -> None:
    with pytest.raises(KeyError):
        build_schedule(EU, "MONTHLY_12", amount=100_000, grade="E", start=START)
