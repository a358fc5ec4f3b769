"""Markets as data: every market file loads, holds to its law, and discloses the right rate."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from bnpl_credit.decision.schedule import add_months, amortising_payments
from bnpl_credit.markets.catalog import DATA_DIR, Market, disclosed_rate, load_catalog, load_market, load_version
from bnpl_credit.markets.rates import RateKind

FILES = sorted(DATA_DIR.glob("*.json"))


def market(currency: str) -> Market:
    found = load_catalog().for_currency(currency)
    assert found is not None, currency
    return found


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_market_file_is_valid_and_named_by_its_version(path: Path) -> None:
    market = load_market(path)
    assert path.stem == market.version
    assert market.market.lower() == market.version.split("-")[0]


def test_three_markets_one_per_currency() -> None:
    catalog = load_catalog()
    assert sorted(m.currency for m in catalog.markets) == ["EUR", "GBP", "USD"]
    eu, uk, us = (catalog.for_currency(c) for c in ("EUR", "GBP", "USD"))
    assert eu is not None and uk is not None and us is not None
    assert catalog.for_country("DE") is eu and catalog.for_country("GB") is uk and catalog.for_country("US") is us
    assert catalog.for_currency("JPY") is None and catalog.for_country("JP") is None


def test_eu_and_uk_disclose_an_aprc_computed_rate_and_the_us_a_regulation_z_apr() -> None:
    assert [market(c).rate.kind for c in ("EUR", "GBP", "USD")] == [
        RateKind.APRC,
        RateKind.APRC,
        RateKind.APR,
    ]
    # the wording each market requires
    assert market("EUR").rate.label == "APRC"
    assert market("GBP").rate.representative_label == "Representative APR"


def test_withdrawal_periods() -> None:
    # 14 calendar days: Directive 2023/2225 Art. 26; Consumer Credit Act 1974 s. 66A
    assert market("EUR").withdrawal_days == 14
    assert market("GBP").withdrawal_days == 14


def _monthly(market: Market, product_name: str, grade: str, amount: int, start: date) -> tuple[Decimal, RateKind]:
    product = market.product(product_name)
    payments, _ = amortising_payments(amount, product.rate_basis_points[grade], product.installments)
    installments = [(add_months(start, k), p) for k, p in enumerate(payments, 1)]
    rate = disclosed_rate(market, product, start=start, amount_financed=amount, installments=installments)
    return rate.annual_rate, rate.kind


def test_the_same_plan_is_28_1_percent_in_the_eu_and_24_99_percent_in_the_us() -> None:
    catalog = load_catalog()
    start = date(2026, 12, 1)
    eu, us = catalog.for_currency("EUR"), catalog.for_currency("USD")
    assert eu is not None and us is not None
    assert _monthly(eu, "MONTHLY_12", "D", 1_000_00, start) == (Decimal("28.1"), RateKind.APRC)
    assert _monthly(us, "MONTHLY_12", "D", 1_000_00, start) == (Decimal("24.99"), RateKind.APR)


@pytest.mark.parametrize("currency", ["EUR", "GBP", "USD"])
def test_pay_in_4_without_fees_discloses_zero(currency: str) -> None:
    terms = market(currency)
    product = terms.product("PAY_IN_4")
    start = date(2026, 11, 29)
    installments = [(start + timedelta(days=14 * k), 25_00) for k in range(4)]
    rate = disclosed_rate(terms, product, start=start, amount_financed=100_00, installments=installments)
    assert rate.annual_rate == 0


@pytest.mark.parametrize("currency", ["EUR", "GBP", "USD"])
def test_late_fee_cap_holds(currency: str) -> None:
    fees = market(currency).late_fees
    assert fees.fee(1_000) == 1_000 * fees.max_percent_of_installment // 100  # capped on a small installment
    assert fees.fee(1_000_00) == fees.amount_minor
    assert all(fees.fee(amount) <= amount * fees.max_percent_of_installment // 100 for amount in range(0, 10_000, 7))


def test_the_newest_version_is_in_force_and_old_ones_stay_readable(tmp_path: Path) -> None:
    source = json.loads((DATA_DIR / "eu-2026-11-20.json").read_text())
    newer = {**source, "version": "eu-2027-03-01", "withdrawal_days": 30}
    (tmp_path / "eu-2026-11-20.json").write_text(json.dumps(source))
    (tmp_path / "eu-2027-03-01.json").write_text(json.dumps(newer))
    newest = load_catalog(tmp_path).for_currency("EUR")
    assert newest is not None and newest.version == "eu-2027-03-01"
    assert load_version("eu-2026-11-20", tmp_path).withdrawal_days == 14


def test_a_market_file_with_a_negative_rate_or_inverted_limits_is_refused() -> None:
    source = json.loads((DATA_DIR / "eu-2026-11-20.json").read_text())
    bad = json.loads(json.dumps(source))
    bad["products"]["MONTHLY_3"]["rate_basis_points"]["A"] = -1
    with pytest.raises(ValueError, match="non-negative"):
        Market.model_validate(bad)
    bad = json.loads(json.dumps(source))
    bad["products"]["MONTHLY_3"]["min_amount"] = 10**9
    with pytest.raises(ValueError, match="min_amount"):
        Market.model_validate(bad)
