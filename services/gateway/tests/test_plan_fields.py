"""The lifecycle fields of issue 4: the decline's notice, the credit line, late fees, refunds."""

from collections.abc import Callable
from typing import Any

NOTICE = """
query One($id: ID!) { application(id: $id) { id status notice { action date score text reasons { code } } } }"""
PLAN = """
query P($id: ID!) { plan(id: $id) { id status lateFees { amount } refunded { amount } totalDue { amount }
  returnedToShopper { amount }
  installments { sequence status amountDue { amount } lateFee { amount } refunded { amount } lateSince } } }"""
LINE = "query { creditLine { creditLimit { amount } exposure { amount } availableCredit { amount } } }"


def test_notice_of_a_decline(gql: Callable[..., dict], credit_service: Any, api: Any) -> None:
    notice = {
        "action": "DECLINED",
        "date": "2026-11-02",
        "score": 410,
        "text": "We cannot offer you credit.",
        "reasons": [{"code": "CREDIT_LIMIT", "description": "x"}],
    }
    credit_service.routes[("GET", "/v1/applications/app-1")] = (
        200,
        api.application("DECLINED", id="app-1", offer=None, notice=notice),
    )
    got = gql(NOTICE, {"id": "app-1"})["data"]["application"]
    assert got["status"] == "DECLINED" and got["notice"]["reasons"] == [{"code": "CREDIT_LIMIT"}]
    assert got["notice"]["date"] == "2026-11-02" and got["notice"]["score"] == 410


def test_plan_with_late_fee_and_refund(gql: Callable[..., dict], credit_service: Any, api: Any) -> None:
    plan = api.plan(id="plan-1")
    for inst in plan["installments"]:
        inst.update(lateFee=api.money(0), refunded=api.money(0), amountDue=inst["amount"], lateSince=None)
    plan["installments"][1].update(status="LATE", lateFee=api.money(500), lateSince="2026-11-24")
    plan.update(
        lateFees=api.money(500),
        refunded=api.money(1000),
        totalDue=api.money(39_500),
        returnedToShopper=api.money(0),
        status="ACTIVE",
    )
    credit_service.routes[("GET", "/v1/plans/plan-1")] = (200, plan)
    got = gql(PLAN, {"id": "plan-1"})["data"]["plan"]
    assert got["lateFees"] == {"amount": 500} and got["totalDue"] == {"amount": 39_500}
    assert got["installments"][1]["status"] == "LATE" and got["installments"][1]["lateSince"] == "2026-11-24"


def test_credit_line(gql: Callable[..., dict], credit_service: Any, api: Any) -> None:
    credit_service.routes[("GET", "/v1/credit-line")] = (
        200,
        {"creditLimit": api.money(200_000), "exposure": api.money(50_000), "availableCredit": api.money(150_000)},
    )
    got = gql(LINE)["data"]["creditLine"]
    assert got == {
        "creditLimit": {"amount": 200_000},
        "exposure": {"amount": 50_000},
        "availableCredit": {"amount": 150_000},
    }
