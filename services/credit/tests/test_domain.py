"""The records on their own, without storage or HTTP: the plan aggregate keeps its ledger and
refuses what would break it; an application moves only out of a live approval."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from bnpl_credit.applications.model import Application, ApplicationStatus, Offer, Order
from bnpl_credit.decision.engine import DecisionStatus
from bnpl_credit.decision.schedule import Schedule, ScheduledInstallment
from bnpl_credit.errors import (
    CurrencyMismatch,
    InvalidApplicationState,
    Overpayment,
    PlanNotActive,
    RefundExceedsPrincipal,
)
from bnpl_credit.markets.catalog import DATA_DIR, DisclosedRate, LateFeeRules, load_catalog
from bnpl_credit.markets.rates import RateKind
from bnpl_credit.plans.ledger import Installment, LedgerInvariantBroken, Plan, PlanTerms, late_fee_terms
from bnpl_credit.plans.model import Allocation, InstallmentStatus, PlanStatus
from bnpl_credit.testing import NOW

TODAY = NOW.date()
FEES = LateFeeRules(grace_days=7, amount_minor=500, max_percent_of_installment=25)
ZERO = DisclosedRate(RateKind.APRC, "APRC", Decimal("0.0"))


def pay_in_4(amount: int = 10_000) -> Plan:
    part = amount // 4
    terms = PlanTerms(
        id="plan-1",
        customer_id="ana",
        application_id="app-1",
        plan_type="PAY_IN_4",
        merchant_id="shop",
        order_reference="o-1",
        currency="EUR",
        principal=amount,
        finance_charge=0,
        total_of_payments=amount,
        apr_basis_points=0,
        created_at=NOW,
        rate=ZERO,
    )
    return Plan(terms, [Installment(n + 1, TODAY + timedelta(days=14 * n), part) for n in range(4)])


def test_payments_go_to_the_oldest_installments_and_complete_the_plan() -> None:
    plan = pay_in_4()
    assert plan.take_payment(3_000, "EUR", TODAY) == (Allocation(1, 2_500), Allocation(2, 500))
    assert plan.totals().amount_outstanding == 7_000 and plan.status is PlanStatus.ACTIVE
    plan.take_payment(7_000, "EUR", TODAY)
    assert plan.status is PlanStatus.COMPLETED and plan.completed_on == TODAY


@pytest.mark.parametrize(
    ("amount", "currency", "error"),
    [(10_001, "EUR", Overpayment), (100, "USD", CurrencyMismatch)],
)
def test_a_payment_that_would_break_the_ledger_is_refused_and_changes_nothing(
    amount: int, currency: str, error: type[Exception]
) -> None:
    plan = pay_in_4()
    with pytest.raises(error):
        plan.take_payment(amount, currency, TODAY)
    assert plan.totals().amount_paid == 0


def test_lateness_is_marked_once_with_a_capped_fee_and_reads_work_on_a_copy() -> None:
    plan = pay_in_4(1_000)  # 250 an installment: the 500 fee is capped at 25 %
    later = TODAY + timedelta(days=22)
    seen = plan.as_of(later, FEES)
    assert [i.status(later, FEES.grace_days) for i in seen.installments][:2] == [
        InstallmentStatus.LATE,
        InstallmentStatus.LATE,
    ]
    assert plan.totals().late_fees == 0  # the read did not touch the plan
    marks = plan.mark_late(later, FEES)
    assert [(m.sequence, m.late_fee) for m in marks] == [(1, 62), (2, 62)]
    assert plan.mark_late(later, FEES) == []
    assert plan.totals().total_due == 1_000 + 124


MARKETS = load_catalog()


def _market_fees(currency: str) -> LateFeeRules:
    market = MARKETS.for_currency(currency)
    assert market is not None
    return market.late_fees


def _late_figures(plan: Plan, fees: LateFeeRules, day: date) -> tuple[list[int], int]:
    """Which installments a read on ``day`` shows LATE, and the fees they then bear."""
    seen = plan.as_of(day, fees)
    late = [i.sequence for i in seen.installments if i.status(day, fees.grace_days) is InstallmentStatus.LATE]
    return late, seen.totals().late_fees


def test_late_fees_follow_the_market_s_terms_grace_period_and_cap() -> None:
    """A 1 000.00 plan in four parts of 2 500, first due today: the market's grace period decides
    when a part is late, its cap what the fee may be; each term removed moves the figures."""
    eu = _market_fees("EUR")  # 7 days' grace, 5.00 capped at 25 % of the part
    plan = pay_in_4(10_000)
    last_grace_day = TODAY + timedelta(days=eu.grace_days)
    assert _late_figures(plan, eu, last_grace_day) == ([], 0)
    assert _late_figures(plan, eu, last_grace_day + timedelta(days=1)) == ([1], 500)
    no_grace = eu.model_copy(update={"grace_days": 0})
    assert _late_figures(plan, no_grace, TODAY + timedelta(days=1)) == ([1], 500)

    small = pay_in_4(1_000)  # parts of 250: 25 % is 62, under the 5.00 fee
    after_grace = TODAY + timedelta(days=eu.grace_days + 1)
    assert _late_figures(small, eu, after_grace) == ([1], 62)
    uncapped = eu.model_copy(update={"max_percent_of_installment": 100})
    assert _late_figures(small, uncapped, after_grace) == ([1], 250)  # the fee would be the whole part


def test_each_market_s_late_fee_terms_apply_to_its_plans() -> None:
    us = _market_fees("USD")  # 10 days' grace, 7.00
    assert (us.grace_days, us.amount_minor) != (FEES.grace_days, FEES.amount_minor)
    plan = pay_in_4(40_000)  # parts of 100.00: neither fee reaches the 25 % cap
    eight_days_late = TODAY + timedelta(days=8)
    assert _late_figures(plan, _market_fees("EUR"), eight_days_late) == ([1], 500)
    assert _late_figures(plan, us, eight_days_late) == ([], 0)  # still in the US grace period
    assert _late_figures(plan, us, TODAY + timedelta(days=11)) == ([1], 700)


def test_refunds_come_off_the_last_installments_then_return_what_was_paid() -> None:
    plan = pay_in_4()
    plan.take_payment(5_000, "EUR", TODAY)
    outcome = plan.refund(6_000, "EUR", TODAY)
    assert outcome.credits == (Allocation(2, 1_000), Allocation(3, 2_500), Allocation(4, 2_500))
    assert outcome.returned_to_shopper == 1_000 and plan.status is PlanStatus.COMPLETED
    with pytest.raises(RefundExceedsPrincipal):
        plan.refund(4_001, "EUR", TODAY)
    full = plan.refund(4_000, "EUR", TODAY)
    assert full.full and plan.status is PlanStatus.REFUNDED and plan.totals().total_due == 0
    assert plan.totals().returned_to_shopper == 5_000
    with pytest.raises(PlanNotActive):
        plan.refund(1, "EUR", TODAY)


def test_a_plan_whose_money_does_not_add_up_cannot_exist() -> None:
    plan = pay_in_4()
    wrong = [replace(i, amount=i.amount + 1) if i.sequence == 1 else i for i in plan.installments]
    with pytest.raises(LedgerInvariantBroken):
        Plan(plan.terms, wrong)
    overpaid = [replace(i, paid=i.amount + 1) if i.sequence == 1 else i for i in plan.installments]
    with pytest.raises(LedgerInvariantBroken):
        Plan(plan.terms, overpaid)


def approval() -> Application:
    order = Order("shop", "o-1", 10_000, "EUR", "PAY_IN_4")
    schedule = Schedule(
        10_000, 0, 10_000, 0, tuple(ScheduledInstallment(n, date(2026, 11, 2), 2_500) for n in (1, 2, 3, 4)), ZERO
    )
    return Application(
        id="app-1",
        customer_id="ana",
        status=ApplicationStatus.APPROVED,
        decision=DecisionStatus.APPROVED,
        order=order,
        hold=10_000,
        created_at=NOW,
        expires_at=NOW + timedelta(minutes=30),
        score=600,
        risk_grade="B",
        pd=0.05,
        reasons=(),
        notice=None,
        offer=Offer("PAY_IN_4", "EUR", schedule),
        model_version="m-1",
        policy_version="p-1",
    )


def test_an_approval_holds_until_it_expires_and_only_then_moves() -> None:
    app = approval()
    assert app.holds_credit_at(NOW) and app.status_at(NOW) is ApplicationStatus.APPROVED
    confirmed = app.confirm("plan-1", NOW)
    assert confirmed.status is ApplicationStatus.CONFIRMED and confirmed.plan_id == "plan-1"
    assert app.cancel(NOW).cancelled_at == NOW
    ended = NOW + timedelta(minutes=30)
    assert app.status_at(ended) is ApplicationStatus.EXPIRED and not app.holds_credit_at(ended)
    for move in (lambda: app.cancel(ended), lambda: app.confirm("plan-1", ended), lambda: confirmed.cancel(NOW)):
        with pytest.raises(InvalidApplicationState):
            move()
    assert app.expire(ended).status is ApplicationStatus.EXPIRED
    with pytest.raises(InvalidApplicationState):
        app.expire(NOW)  # its hold has not ended


def test_a_plan_keeps_the_late_fee_terms_of_the_market_version_it_was_made_under(tmp_path: Path) -> None:
    source = json.loads((DATA_DIR / "eu-2026-11-20.json").read_text())
    newer = {**source, "version": "eu-2027-03-01", "late_fees": {**source["late_fees"], "amount_minor": 300}}
    (tmp_path / "eu-2026-11-20.json").write_text(json.dumps(source))
    (tmp_path / "eu-2027-03-01.json").write_text(json.dumps(newer))
    catalog = load_catalog(tmp_path)
    plan = pay_in_4(10_000)
    made_under_old = Plan(replace(plan.terms, market_version="eu-2026-11-20"), plan.installments)
    made_before_versions = pay_in_4(10_000)  # stored before plans recorded their market version
    assert late_fee_terms(catalog, made_under_old).amount_minor == 500
    assert late_fee_terms(catalog, made_before_versions).amount_minor == 300  # the terms in force
    eight_days_late = TODAY + timedelta(days=8)
    assert _late_figures(made_under_old, late_fee_terms(catalog, made_under_old), eight_days_late) == ([1], 500)
