"""The feature mapping sends exactly the model's columns, in model units."""

from __future__ import annotations

from datetime import date

from bnpl_common.dates import age_on
from bnpl_credit.decision.features import FEATURE_NAMES, FeatureInputs, build_features


def inputs(**kw: object) -> FeatureInputs:
    base = dict(
        employment_years=8,
        housing="PARENTS",
        employment="PART_TIME",
        date_of_birth=date(2000, 11, 3),
        monthly_income=300_000,
        monthly_expenses=60_000,
        assets=0,
        debt=1_200,
        order_total=20_000,
        amount_financed=15_000,
        term_months=2,
        has_late_installments=False,
        open_plans_outstanding=600,
        model_unit_minor=600,
    )
    base.update(kw)
    return FeatureInputs(**base)  # type: ignore[arg-type] - test overrides are typed loosely


def test_mapping() -> None:
    f = build_features(inputs(), today=date(2026, 11, 2))
    assert tuple(f) == FEATURE_NAMES
    assert f["Seniority"] == 8 and f["Home"] == "parents" and f["Job"] == "partime" and f["Time"] == 2
    assert f["Age"] == 25  # birthday tomorrow
    assert f["Records"] == "no"
    assert f["Income"] == 500.0 and f["Expenses"] == 100.0 and f["Debt"] == 3.0
    # the price is the order total, the amount what the plan lends after the first part is paid
    assert f["Price"] == round(20_000 / 600, 4) and f["Amount"] == round(15_000 / 600, 4)


def test_records_and_categories() -> None:
    f = build_features(inputs(has_late_installments=True, housing="OTHER", employment="OTHER"), today=date(2026, 1, 1))
    assert f["Records"] == "yes" and f["Home"] == "other" and f["Job"] == "others"


def test_age_on_birthday() -> None:
    assert age_on(date(2008, 11, 2), date(2026, 11, 2)) == 18
    assert age_on(date(2008, 11, 3), date(2026, 11, 2)) == 17


def test_pay_in_4_finances_three_quarters_and_monthly_plans_the_whole_order() -> None:
    from bnpl_credit.decision.schedule import paid_at_start
    from bnpl_credit.markets.catalog import load_catalog

    eu = load_catalog().for_currency("EUR")
    assert eu is not None
    assert paid_at_start(eu.product("PAY_IN_4"), 24_900) == 6_225  # 249.00 in four: 62.25 at checkout
    assert paid_at_start(eu.product("PAY_IN_4"), 10_001) == 2_501  # the larger part first
    assert paid_at_start(eu.product("MONTHLY_6"), 24_900) == 0
