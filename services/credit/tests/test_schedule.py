"""Schedules: exact sums, due dates, amortisation."""

from __future__ import annotations

from datetime import date

from bnpl_credit.decision.policy import load_policy
from bnpl_credit.decision.schedule import add_months, amortising_payments, build_schedule
from bnpl_credit.settings import PACKAGED_POLICY

POLICY = load_policy(PACKAGED_POLICY)
START = date(2026, 1, 31)


def test_pay_in_4_splits_evenly_every_14_days() -> None:
    s = build_schedule(POLICY.plan("PAY_IN_4"), amount=10_001, grade=None, start=START)
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
    s = build_schedule(POLICY.plan("MONTHLY_12"), amount=100_000, grade="A", start=START)
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
        s = build_schedule(POLICY.plan("PAY_IN_4"), amount=amount, grade=None, start=START)
        parts = [i.amount for i in s.installments]
        assert sum(parts) == amount and max(parts) - min(parts) <= 1


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)
