"""The generated grid of the market issue: every product of every market file at every grade it
serves, amounts at its limits and in odd cents, start dates at month ends and in February, built
by the schedule the service uses (``build_schedule``). Invariants: the installments sum to the
total, none is zero or negative, the dates follow the product's interval, and the disclosed rate
is within its rounding of an independent solver (bisection on the cash flows as the schedule was
constructed: k equal months, or k x 14 days as weeks; not the module's date arithmetic)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from bnpl_credit.decision.schedule import add_months, build_schedule
from bnpl_credit.markets.catalog import Market, Product, load_catalog
from bnpl_credit.markets.rates import RateKind

CATALOG = load_catalog()
MARKETS = [CATALOG.for_currency(c) for c in ("EUR", "GBP", "USD")]
STARTS = [
    date(2026, 1, 31),
    date(2026, 2, 28),
    date(2028, 2, 29),
    date(2026, 8, 31),
    date(2026, 12, 31),
    date(2026, 11, 15),
]
CASES = [(market, name) for market in MARKETS if market is not None for name in market.products]


def amounts(product: Product) -> list[int]:
    low, high = product.min_amount, product.max_amount
    return sorted({low, low + 1, low + 99, (low + high) // 2 + 37, high - 1, high})


def _bisect(value_at: Callable[[float], float], low: float = 0.0, high: float = 10.0) -> float:
    """The rate at which the discounted repayments equal what was lent (value decreasing in rate)."""
    for _ in range(200):
        mid = (low + high) / 2
        low, high = (mid, high) if value_at(mid) > 0 else (low, mid)
    return (low + high) / 2


def independent_aprc(amount: int, payments: list[int], years: list[float]) -> float:
    if sum(payments) == amount:
        return 0.0
    rate = _bisect(lambda x: sum(p * (1 + x) ** -t for p, t in zip(payments, years, strict=True)) - amount)
    return rate * 100


def independent_apr(amount: int, payments: list[int], periods: list[int], per_year: int) -> float:
    if sum(payments) == amount:
        return 0.0
    rate = _bisect(lambda i: sum(p * (1 + i) ** -k for p, k in zip(payments, periods, strict=True)) - amount, high=1.0)
    return rate * per_year * 100


def years_as_built(product: Product, count: int) -> list[float]:
    """The directive's time of each repayment as the schedule places it: whole equal months, or
    weeks (the platform's 14-day products)."""
    first = 0 if product.first_due_at_start else 1
    if product.interval_days is None:
        return [(k + first) / 12 for k in range(count)]
    assert product.interval_days % 7 == 0
    return [(k + first) * product.interval_days / 7 / 52 for k in range(count)]


@pytest.mark.parametrize(("market", "name"), CASES, ids=[f"{m.market}-{n}" for m, n in CASES])
def test_grid_holds_the_invariants(market: Market, name: str) -> None:
    product = market.product(name)
    for grade, rate_bp in sorted(product.rate_basis_points.items()):
        for start in STARTS:
            for amount in amounts(product):
                s = build_schedule(market, name, amount=amount, grade=grade, start=start)
                parts = [i.amount for i in s.installments]
                dates = [i.due_date for i in s.installments]
                where = (market.market, name, grade, start, amount)
                assert sum(parts) == s.total_of_payments == amount + s.finance_charge, where
                assert min(parts) > 0 and len(parts) == product.installments, where
                assert (rate_bp == 0) == (s.finance_charge == 0), where
                if product.interval_days is None:
                    assert dates == [add_months(start, k + 1) for k in range(len(parts))], where
                else:
                    first = 0 if product.first_due_at_start else 1
                    step = timedelta(days=product.interval_days)
                    assert dates == [start + step * (k + first) for k in range(len(parts))], where
                got = float(s.rate.annual_rate)
                half_unit = 0.5 * 10**-market.rate.decimals + 1e-9
                if market.rate.kind is RateKind.APRC:
                    expected = independent_aprc(amount, parts, years_as_built(product, len(parts)))
                else:
                    # Regulation Z: a part due at consummation is a down payment (1026.18(b))
                    down = sum(p for p, d in zip(parts, dates, strict=True) if d == start)
                    rest = [p for p, d in zip(parts, dates, strict=True) if d != start]
                    expected = independent_apr(
                        amount - down, rest, list(range(1, len(rest) + 1)), product.periods_per_year
                    )
                    assert abs(got - rate_bp / 100) <= 0.125, where  # 12 CFR 1026.22(a)(2)
                assert abs(got - expected) <= half_unit, (where, got, expected)
                assert s.rate.annual_rate == round(s.rate.annual_rate, market.rate.decimals)
                assert s.rate.annual_rate >= Decimal(0)
