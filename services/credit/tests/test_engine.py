"""The decision engine with a fake scorer: approve, decline with reasons, refer."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import date, timedelta

import pytest
from bnpl_credit.decision.engine import DecisionContext, DecisionEngine, evaluate
from bnpl_credit.decision.policy import load_policy
from bnpl_credit.markets.catalog import load_catalog
from bnpl_credit.scoring.port import ScorerError
from bnpl_credit.settings import PACKAGED_POLICY
from bnpl_credit.testing import NOW, FakeScorer, score_result

POLICY = load_policy(PACKAGED_POLICY)
MARKETS = load_catalog()
EU = MARKETS.for_currency("EUR")
assert EU is not None


def ctx(**kw: object) -> DecisionContext:
    base = DecisionContext(
        amount=20_000,
        currency="EUR",
        plan_type="PAY_IN_4",
        age=40,
        late_installments=0,
        monthly_income=300_000,
        monthly_expenses=100_000,
        credit_limit=None,
        exposure=0,
        today=NOW.date(),
        now=NOW,
        market=EU,
    )
    return replace(base, **kw)  # type: ignore[arg-type] - test overrides are typed loosely


def codes(decision: object) -> list[str]:
    return [r.code for r in decision.reasons]  # type: ignore[attr-defined] - the decision union is narrowed by the assertion


def test_low_pd_is_approved_with_offer_hold_and_first_limit() -> None:
    d = evaluate(POLICY, ctx(), score_result(pd=0.05, grade="A"))
    assert d.status == "APPROVED"
    assert d.schedule is not None and d.schedule.total_of_payments == 20_000
    assert d.expires_at == NOW + timedelta(minutes=30)
    assert d.new_credit_limit == 300_000
    assert codes(d) == ["R_AMOUNT", "R_SENIORITY"]


def test_existing_limit_is_not_reset() -> None:
    d = evaluate(POLICY, ctx(credit_limit=100_000, exposure=10_000), score_result(pd=0.05, grade="A"))
    assert d.status == "APPROVED" and d.new_credit_limit is None


def test_monthly_offer_uses_grade_apr() -> None:
    d = evaluate(POLICY, ctx(plan_type="MONTHLY_6", amount=60_000), score_result(pd=0.12, grade="B"))
    assert d.status == "APPROVED"
    assert d.schedule is not None and d.schedule.apr_basis_points == 1499 and d.schedule.finance_charge > 0


def test_high_pd_is_declined_with_the_models_principal_reasons() -> None:
    """A risk decline is explained by what moved the score, not by a generic sentence."""
    d = evaluate(POLICY, ctx(), score_result(pd=0.45, grade="E"))
    assert d.status == "DECLINED"
    assert codes(d) == ["R_AMOUNT", "R_SENIORITY"]
    assert d.schedule is None and d.expires_at is None


def test_generic_risk_reason_only_when_the_model_gives_none() -> None:
    d = evaluate(POLICY, ctx(), score_result(pd=0.45, grade="E", reasons=()))
    assert d.status == "DECLINED" and codes(d) == ["HIGH_RISK"]


def test_specific_policy_reasons_come_before_the_models() -> None:
    d = evaluate(POLICY, ctx(monthly_income=100_500, monthly_expenses=100_000), score_result(pd=0.45, grade="E"))
    assert codes(d) == ["AFFORDABILITY", "R_AMOUNT", "R_SENIORITY"]


def test_zero_limit_without_a_risk_reason_still_declines() -> None:
    """If a policy gives some grade no limit, that grade is never approved by accident."""
    policy = POLICY.model_copy(update={"credit_limit_by_grade": {**POLICY.credit_limit_by_grade, "C": 0}})
    d = evaluate(policy, ctx(), score_result(pd=0.18, grade="C"))
    assert d.status == "DECLINED" and codes(d)[0] == "CREDIT_LIMIT"


def test_middle_pd_is_referred() -> None:
    d = evaluate(POLICY, ctx(), score_result(pd=0.25, grade="C"))
    assert d.status == "REFERRED"
    assert codes(d)[0] == "MANUAL_REVIEW"
    assert d.new_credit_limit is None


def test_late_payments_knock_out() -> None:
    d = evaluate(POLICY, ctx(late_installments=1), score_result(pd=0.01))
    assert d.status == "DECLINED" and codes(d)[0] == "KO_LATE_PAYMENTS"


def test_under_age_knock_out() -> None:
    d = evaluate(POLICY, ctx(age=17), score_result(pd=0.01))
    assert d.status == "DECLINED" and codes(d)[0] == "KO_AGE"


def test_affordability_decline_explains_in_plain_words() -> None:
    # disposable 200.00, less the EU's 10 % stress buffer 180.00, 35 % of it = 63.00; a 400.00
    # pay-in-4 takes 300.00 in its first 30 days (at once, after 14 and after 28 days)
    d = evaluate(POLICY, ctx(amount=40_000, monthly_income=250_000, monthly_expenses=230_000), score_result(pd=0.01))
    assert d.status == "DECLINED" and codes(d)[0] == "AFFORDABILITY"
    text = d.reasons[0].description
    assert "first 30 days of this plan (EUR 300.00)" in text and "at most EUR 63.00" in text
    assert "your income after expenses (EUR 200.00)" in text


def test_pay_in_4_is_checked_against_its_first_30_days_not_one_installment() -> None:
    # disposable 1 000.00, stressed 900.00, 35 % = 315.00. A 480.00 pay in 4: one installment of
    # 120.00 is well within it (the old single-installment rule approved it), but 360.00 falls
    # due within 30 days
    d = evaluate(POLICY, ctx(amount=48_000, monthly_income=300_000, monthly_expenses=200_000), score_result(pd=0.01))
    assert d.status == "DECLINED" and codes(d)[0] == "AFFORDABILITY"
    assert "(EUR 360.00) would be more than we can lend against: at most EUR 315.00" in d.reasons[0].description
    fits = evaluate(POLICY, ctx(amount=40_000, monthly_income=300_000, monthly_expenses=200_000), score_result(pd=0.01))
    assert fits.status == "APPROVED"  # 300.00 in 30 days fits under 315.00


def test_declared_debt_is_serviced_at_the_markets_stated_rate() -> None:
    # 3 000.00 of declared debt at the EU's assumed 10 % over 36 months: 96.81 a month
    d = evaluate(
        POLICY,
        ctx(amount=40_000, monthly_income=300_000, monthly_expenses=200_000, declared_debt=300_000),
        score_result(pd=0.01),
    )
    assert d.status == "DECLINED" and codes(d)[0] == "AFFORDABILITY"
    assert "less EUR 96.81 a month for the debts you told us about" in d.reasons[0].description


def test_monthly_plans_are_checked_against_their_monthly_payment() -> None:
    # MONTHLY_3 of 900.00 at grade A 9.99 %: about 305.00 a month against 315.00 allowed
    ok = ctx(plan_type="MONTHLY_3", amount=90_000, monthly_income=300_000, monthly_expenses=200_000)
    assert evaluate(POLICY, ok, score_result(pd=0.01)).status == "APPROVED"
    tight = replace(ok, monthly_expenses=205_000)  # 950.00 left: stressed 855.00, 35 % = 299.25
    d = evaluate(POLICY, tight, score_result(pd=0.01))
    assert codes(d)[0] == "AFFORDABILITY" and "The monthly payment of this plan" in d.reasons[0].description


def test_credit_limit_decline() -> None:
    d = evaluate(POLICY, ctx(credit_limit=50_000, exposure=40_000), score_result(pd=0.01))
    assert d.status == "DECLINED" and codes(d)[0] == "CREDIT_LIMIT"
    assert "EUR 100.00" in d.reasons[0].description


def test_first_application_above_grade_limit_is_declined() -> None:
    d = evaluate(POLICY, ctx(plan_type="MONTHLY_12", amount=60_000), score_result(pd=0.18, grade="D"))
    assert d.status == "DECLINED" and "CREDIT_LIMIT" in codes(d)


def test_reasons_are_capped_at_four() -> None:
    many = score_result(pd=0.5, grade="E")
    d = evaluate(POLICY, ctx(age=17, late_installments=2, monthly_income=0), many)
    assert d.status == "DECLINED" and len(d.reasons) == 4
    assert codes(d)[:2] == ["KO_AGE", "KO_LATE_PAYMENTS"]


def test_scorer_failure_refers_never_approves() -> None:
    d = evaluate(POLICY, ctx(), None, "ScorerError")
    assert d.status == "REFERRED" and codes(d) == ["SCORER_UNAVAILABLE"]
    assert d.scorer_failure == "ScorerError" and d.schedule is None


def test_scorer_failure_with_knock_out_still_declines() -> None:
    d = evaluate(POLICY, ctx(late_installments=1), None, "TimeoutError")
    assert d.status == "DECLINED" and codes(d) == ["KO_LATE_PAYMENTS"]


async def _decide(scorer: FakeScorer, timeout: float = 0.2) -> tuple[object, float]:
    engine = DecisionEngine(policy=POLICY, markets=MARKETS, scorer=scorer, timeout_seconds=timeout)
    started = time.perf_counter()
    d = await engine.decide(ctx(), {"Age": 40})
    return d, time.perf_counter() - started


def test_engine_refers_when_scorer_raises() -> None:
    d, _ = asyncio.run(_decide(FakeScorer(error=ScorerError("boom"))))
    assert d.status == "REFERRED" and d.scorer_failure == "ScorerError"  # type: ignore[attr-defined] - the decision union is narrowed by the assertion


def test_engine_refers_on_unexpected_exception() -> None:
    d, _ = asyncio.run(_decide(FakeScorer(error=KeyError("x"))))
    assert d.status == "REFERRED" and d.scorer_failure == "KeyError"  # type: ignore[attr-defined] - the decision union is narrowed by the assertion


def test_engine_refers_within_timeout_on_slow_scorer() -> None:
    d, elapsed = asyncio.run(_decide(FakeScorer(delay=5.0), timeout=0.2))
    assert d.status == "REFERRED" and d.scorer_failure == "TimeoutError"  # type: ignore[attr-defined] - the decision union is narrowed by the assertion
    assert elapsed < 1.0


@pytest.mark.parametrize(
    "pd,status", [(0.20, "APPROVED"), (0.2001, "REFERRED"), (0.30, "REFERRED"), (0.3001, "DECLINED")]
)
def test_cutoff_boundaries(pd: float, status: str) -> None:
    assert evaluate(POLICY, ctx(), score_result(pd=pd, grade="C")).status == status


def test_today_is_the_first_due_date() -> None:
    d = evaluate(POLICY, ctx(), score_result())
    assert d.schedule is not None and d.schedule.installments[0].due_date == date(2026, 11, 2)
