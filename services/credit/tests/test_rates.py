"""The disclosed rate of each market against the legal texts' own worked examples, and a grid
of the platform's plans against an independent solver."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from bnpl_credit.decision.schedule import add_months, amortising_payments
from bnpl_credit.markets.rates import CashFlow, Interval, aprc, regulation_z_apr, years_between

# -- Test vectors: Directive 98/7/EC, Annex III ("Examples of calculation"), part A, the calendar
# basis (1 year = 365 days, or 366 in a leap year). The equation and the rounding rule are those
# that Directive 2008/48/EC Annex I and Directive (EU) 2023/2225 Annex III kept; the figures are
# the annex's own.
ANNEX_III_CALENDAR = [
    # first example: 1 000 lent on 1 January 1994, 1 200 repaid on 1 July 1995 (546 days)
    ("first", [(date(1994, 1, 1), 1_000_00)], [(date(1995, 7, 1), 1_200_00)], "13.0", "12.96"),
    # second example: as the first, but the creditor keeps 50 for costs, so 950 is lent
    ("second", [(date(1994, 1, 1), 950_00)], [(date(1995, 7, 1), 1_200_00)], "16.9", None),
    # third example: 1 000, repaid in two amounts of 600 after one and two years (i = 0.1306623)
    (
        "third",
        [(date(1994, 1, 1), 1_000_00)],
        [(date(1995, 1, 1), 600_00), (date(1996, 1, 1), 600_00)],
        "13.1",
        "13.07",
    ),
]


@pytest.mark.parametrize(("name", "lent", "repaid", "one_decimal", "two_decimals"), ANNEX_III_CALENDAR)
def test_directive_annex_iii_examples(
    name: str, lent: list[tuple[date, int]], repaid: list[tuple[date, int]], one_decimal: str, two_decimals: str | None
) -> None:
    drawdowns = [CashFlow(on, amount) for on, amount in lent]
    repayments = [CashFlow(on, amount) for on, amount in repaid]
    assert aprc(drawdowns, repayments, interval=Interval.DAYS) == Decimal(one_decimal), name
    if two_decimals:
        assert aprc(drawdowns, repayments, interval=Interval.DAYS, decimals=2) == Decimal(two_decimals), name


# -- Test vectors: Regulation Z (12 CFR 1026), Appendix J (c), "Examples for the actuarial method":
# the single-advance examples whose periods are all regular (monthly from 10 January 1978, the
# first payment on 10 February), with the appendix's own amounts and rates. The platform's US
# plans are regular monthly (or interest-free), so these are the examples that apply to them.
APPENDIX_J = [
    # (c)(1)(i) monthly payments, regular first period: 5 000.00, 24 x 230.00
    ("(c)(1)(i)", 5_000_00, [230_00] * 24, "9.69"),
    # (c)(2)(i) regular first period, irregular first payment: 250.00, then 23 x 230.00
    ("(c)(2)(i)", 5_000_00, [250_00] + [230_00] * 23, "10.08"),
    # (c)(3)(i) regular first period, irregular final payment: 23 x 230.00, then 280.00
    ("(c)(3)(i)", 5_000_00, [230_00] * 23 + [280_00], "10.50"),
    # (c)(4)(i) irregular first and final payments: 250.00, 22 x 230.00, 280.00
    ("(c)(4)(i)", 5_000_00, [250_00] + [230_00] * 22 + [280_00], "10.90"),
]


@pytest.mark.parametrize(("example", "amount", "payments", "apr"), APPENDIX_J, ids=[e[0] for e in APPENDIX_J])
def test_regulation_z_appendix_j_examples(example: str, amount: int, payments: list[int], apr: str) -> None:
    assert regulation_z_apr(amount, payments, periods_per_year=12) == Decimal(apr), example


def test_the_first_example_counts_546_days_as_one_year_and_181_days() -> None:
    assert years_between(date(1994, 1, 1), date(1995, 7, 1), Interval.DAYS) == pytest.approx(1 + 181 / 365)


def test_a_leap_year_counts_366_days() -> None:
    # the year counted back from 1 March 2024 holds 29 February 2024
    assert years_between(date(2023, 3, 1), date(2024, 3, 1), Interval.DAYS) == 1
    assert years_between(date(2024, 1, 1), date(2024, 3, 1), Interval.DAYS) == pytest.approx(60 / 366)
    assert years_between(date(2023, 1, 1), date(2023, 3, 1), Interval.DAYS) == pytest.approx(59 / 365)


def test_equal_months_count_a_clamped_month_end_as_a_whole_month() -> None:
    start = date(2026, 1, 31)
    assert years_between(start, add_months(start, 1), Interval.EQUAL_MONTHS) == pytest.approx(1 / 12)
    assert years_between(start, add_months(start, 13), Interval.EQUAL_MONTHS) == pytest.approx(13 / 12)
    assert years_between(start, date(2026, 3, 10), Interval.EQUAL_MONTHS) == pytest.approx(1 / 12 + 10 / 365)


def test_weeks() -> None:
    assert years_between(date(2026, 11, 29), date(2026, 12, 13), Interval.WEEKS) == pytest.approx(2 / 52)


def _monthly_flows(amount: int, apr_bp: int, months: int, start: date) -> tuple[list[CashFlow], list[CashFlow]]:
    payments, _ = amortising_payments(amount, apr_bp, months)
    repaid = [CashFlow(add_months(start, k), p) for k, p in enumerate(payments, 1)]
    return [CashFlow(start, amount)], repaid


def test_a_24_99_percent_monthly_plan_is_an_aprc_of_28_1_percent_not_24_99() -> None:
    # 1 000.00 over 12 months at 24.99 % nominal, paid monthly: with yearly compounding the
    # rate is (1 + 0.2499 / 12) ** 12 - 1 = 28.06 %, which the EU and UK must disclose.
    lent, repaid = _monthly_flows(1_000_00, 2499, 12, date(2026, 12, 1))
    assert aprc(lent, repaid, interval=Interval.EQUAL_MONTHS, decimals=2) == Decimal("28.06")
    assert aprc(lent, repaid, interval=Interval.EQUAL_MONTHS) == Decimal("28.1")
    # the same plan's US APR is the nominal rate (Regulation Z: unit-period rate x 12)
    assert regulation_z_apr(1_000_00, [f.amount for f in repaid], periods_per_year=12) == Decimal("24.99")


def test_an_interest_free_plan_has_a_zero_rate() -> None:
    start = date(2026, 11, 29)
    repaid = [CashFlow(start + timedelta(days=14 * k), 25_00) for k in range(4)]
    assert aprc([CashFlow(start, 100_00)], repaid, interval=Interval.WEEKS) == Decimal("0.0")
    assert regulation_z_apr(75_00, [25_00] * 3, periods_per_year=26) == Decimal("0.00")


def test_a_fee_on_an_interest_free_plan_shows_in_the_aprc() -> None:
    # 100.00 lent, four installments of 25.00 and a 5.00 fee with the first: no longer free
    start = date(2026, 11, 29)
    repaid = [CashFlow(start + timedelta(days=14 * k), 25_00 + (5_00 if k == 0 else 0)) for k in range(4)]
    assert aprc([CashFlow(start, 100_00)], repaid, interval=Interval.WEEKS) > Decimal("50")


def _independent_monthly_rate(amount: int, payments: list[int]) -> float:
    """Bisection on the monthly rate, independent of the module's Newton solver."""
    low, high = 0.0, 1.0
    for _ in range(100):
        mid = (low + high) / 2
        value = sum(p / (1 + mid) ** k for k, p in enumerate(payments, 1))
        low, high = (mid, high) if value > amount else (low, mid)
    return (low + high) / 2


@pytest.mark.parametrize("months", [3, 6, 12])
@pytest.mark.parametrize("apr_bp", [999, 1499, 1999, 2499])
def test_grid_against_an_independent_solver(months: int, apr_bp: int) -> None:
    starts = [date(2026, 1, 31), date(2028, 2, 29), date(2026, 8, 31), date(2026, 11, 15)]
    amounts = [20_000, 20_001, 20_099, 123_457, 499_999, 500_000]
    for start in starts:
        for amount in amounts:
            lent, repaid = _monthly_flows(amount, apr_bp, months, start)
            payments = [f.amount for f in repaid]
            assert sum(payments) > amount and min(payments) > 0
            monthly = _independent_monthly_rate(amount, payments)
            expected = ((1 + monthly) ** 12 - 1) * 100
            got = aprc(lent, repaid, interval=Interval.EQUAL_MONTHS, decimals=2)
            assert abs(float(got) - expected) <= 0.005 + 1e-9, (start, amount, got, expected)
            us = regulation_z_apr(amount, payments, periods_per_year=12)
            assert abs(float(us) - 12 * 100 * monthly) <= 0.005 + 1e-9
            assert abs(float(us) - apr_bp / 100) <= 0.125  # 12 CFR 1026.22(a)(2)


def test_rounding_half_up_on_the_boundary() -> None:
    # one year, one payment: the rate is exactly the ratio, so 1 000 -> 1 128.50 is 12.85 %,
    # which rounds half up to 12.9 % (remark (d)), not to 12.8 % as banker's rounding would
    start = date(2025, 3, 1)
    assert aprc([CashFlow(start, 1_000_00)], [CashFlow(date(2026, 3, 1), 1_128_50)], interval=Interval.DAYS) == Decimal(
        "12.9"
    )


def test_bad_flows_are_refused() -> None:
    with pytest.raises(ValueError, match="drawdown"):
        aprc([], [CashFlow(date(2026, 1, 1), 1)], interval=Interval.DAYS)
    with pytest.raises(ValueError, match="before"):
        aprc([CashFlow(date(2026, 1, 2), 100)], [CashFlow(date(2026, 1, 1), 110)], interval=Interval.DAYS)
