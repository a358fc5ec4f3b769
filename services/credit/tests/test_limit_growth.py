"""The limit grows with plans repaid on time and freezes after lateness (policy data)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

from bnpl_credit.credit_line import service as credit_lines
from bnpl_credit.credit_line.growth import GrowthRules, LimitStanding, RepaymentRecord, explain, standing
from bnpl_credit.decision.policy import load_policy
from bnpl_credit.settings import PACKAGED_POLICY
from bnpl_credit.storage.port import CreditStore

from .test_store_contract import MARKETS, POLICY, Harness

RULES = GrowthRules(percent_per_plan_repaid_on_time=20, max_percent_of_initial=300, freeze_days_after_late=180)
TODAY = date(2026, 11, 29)


def eur(minor: int) -> str:
    return f"€{minor / 100:,.2f}"


def at(days_ago: int) -> date:
    return TODAY - timedelta(days=days_ago)


def test_no_history_keeps_the_first_limit_and_says_how_to_raise_it() -> None:
    s = standing(100_000, RepaymentRecord((), ()), RULES, today=TODAY)
    assert s == LimitStanding(100_000, 100_000, 0, None, False, 120_000)
    why, to_raise = explain(s, RULES, eur)
    assert why == ["Your limit started at €1,000.00 when you were first approved."]
    assert to_raise == "Repay a plan on time and your limit will grow to €1,200.00."


def test_two_plans_repaid_on_time_raise_the_limit() -> None:
    s = standing(100_000, RepaymentRecord((at(60), at(10)), ()), RULES, today=TODAY)
    assert s.limit == 140_000 and s.plans_counted == 2 and s.next_limit == 160_000
    assert "each of the 2 plans you repaid on time" in explain(s, RULES, eur)[0][1]


def test_lateness_freezes_the_limit_at_what_was_earned_before_it() -> None:
    record = RepaymentRecord(repaid_on_time=(at(100), at(20)), late_on=(at(50),))
    s = standing(100_000, record, RULES, today=TODAY)
    assert s.limit == 120_000  # the plan completed after the lateness does not count while frozen
    assert s.frozen_until == at(50) + timedelta(days=180) and s.next_limit is None
    why, to_raise = explain(s, RULES, eur)
    assert "cannot grow until" in why[-1] and to_raise is not None and "can grow again" in to_raise


def test_an_old_lateness_no_longer_freezes() -> None:
    record = RepaymentRecord(repaid_on_time=(at(300), at(20)), late_on=(at(200),))
    s = standing(100_000, record, RULES, today=TODAY)
    assert s.frozen_until is None and s.limit == 140_000


def test_growth_stops_at_the_maximum() -> None:
    record = RepaymentRecord(tuple(at(d) for d in range(1, 20)), ())
    s = standing(100_000, record, RULES, today=TODAY)
    assert s.limit == 300_000 and s.at_maximum and s.next_limit is None
    assert explain(s, RULES, eur)[1] is None


def test_the_policy_states_the_rules_as_data() -> None:
    growth = load_policy(PACKAGED_POLICY).credit_line_growth
    assert growth is not None and growth.percent_per_plan_repaid_on_time > 0 and growth.freeze_days_after_late > 0


# ---- through the service, on both storage adapters -----------------------------------------------


async def _line(h: Harness, sub: str) -> dict[str, Any]:
    return (await credit_lines.credit_line(h.store, MARKETS, sub, now=h.clock.now(), policy=POLICY)).to_json()


async def _repaid_plan(h: Harness, sub: str, amount: int) -> None:
    app = await h.apply(sub, amount={"amount": amount, "currency": "EUR"})
    assert app["status"] == "APPROVED", app
    plan = await h.confirm(sub, app["id"])
    paid = await h.pay(sub, plan["id"], plan["amountOutstanding"]["amount"])
    assert paid["planStatus"] == "COMPLETED"


def test_two_plans_repaid_on_time_raise_the_limit_and_the_decision_uses_it(store: CreditStore) -> None:
    async def scenario() -> None:
        h = Harness(store)  # grade B: the first limit is 2,000.00 (policy)
        await _repaid_plan(h, "ana", 20_000)
        first = await _line(h, "ana")
        assert first["creditLimit"]["amount"] == 240_000  # + 20 % of the first limit for one plan repaid on time
        assert first["howToRaise"] == "Repay a plan on time and your limit will grow to EUR 2,800.00."
        await _repaid_plan(h, "ana", 20_000)
        h.clock.advance(timedelta(days=1))
        line = await _line(h, "ana")
        assert line["creditLimit"]["amount"] == 280_000
        assert any("2 plans you repaid on time" in r for r in line["limitReasons"])
        initial = 200_000
        # an order above the first limit but within the earned one is approved
        app = await h.apply("ana", planType="MONTHLY_12", amount={"amount": initial + 10_000, "currency": "EUR"})
        assert app["status"] == "APPROVED", app["reasons"]

    asyncio.run(scenario())


def test_a_late_installment_freezes_the_limit(store: CreditStore) -> None:
    async def scenario() -> None:
        h = Harness(store)
        await _repaid_plan(h, "bea", 20_000)
        app = await h.apply("bea", amount={"amount": 20_000, "currency": "EUR"})
        await h.confirm("bea", app["id"])
        h.clock.advance(timedelta(days=40))  # the second installment is past its grace period, unpaid
        line = await _line(h, "bea")
        initial_times_growth = line["creditLimit"]["amount"]
        assert any("cannot grow until" in r for r in line["limitReasons"])
        assert "can grow again" in line["howToRaise"]
        # what the one plan repaid before the lateness earned is kept; nothing more while frozen
        assert any("1 plan you repaid on time" in r for r in line["limitReasons"])
        assert initial_times_growth > 0

    asyncio.run(scenario())
