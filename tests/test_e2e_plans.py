"""Plans end to end over GraphQL against the real processes: pay in 4 and monthly from quote
to completion, one into lateness with a fee, one through a partial merchant refund, a
decline's notice and a released hold. The credit service's clock is moved through its
test-only control (``CLOCK_OFFSET_FILE``, honoured only for BNPL_ENV local/test)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts.devstack import Stack
from tests.conftest import Shopper, free_ports, read_outbox, running
from tests.journey import (
    CARD_NO_FUNDS,
    CONFIRM_VERIFICATION,
    CREATE_PROFILE,
    START_VERIFICATION,
    accepted,
    add_card,
    good_profile,
    merchants,
    order,
    poor_profile,
    session_of,
    ship,
)
from tests.plans_queries import (
    APPLICATION_NOTICE,
    APPLY,
    CANCEL,
    CONFIRM_PLAN,
    CREDIT,
    PAY,
    PLAN,
    PLANS,
    QUOTE,
)

pytestmark = pytest.mark.e2e

DAY = 86_400


@pytest.fixture(scope="module")
def clock_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clock") / "offset-seconds"
    path.write_text("0")
    return path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, clock_file: Path) -> Iterator[Stack]:
    """This module's own stack: the credit service reads its clock offset from ``clock_file``."""
    data_dir = tmp_path_factory.mktemp("plans-stack")
    env = {"SCORER_TIMEOUT_SECONDS": "1.5", "CLOCK_OFFSET_FILE": str(clock_file), "SWEEP_INTERVAL_SECONDS": "0.5"}
    stack = Stack(data_dir=data_dir, ports=free_ports(), extra_env=env, demo_merchant=True)
    with running(stack):
        yield stack


@pytest.fixture
def travel(clock_file: Path) -> Iterator[Any]:
    def to(days: float) -> None:
        clock_file.write_text(str(int(days * DAY)))

    yield to
    clock_file.write_text("0")


def onboard(shopper: Shopper, stack: Stack, profile: dict[str, Any]) -> None:
    shopper.ok(CREATE_PROFILE, {"input": {**profile, "email": shopper.email}})
    shopper.ok(START_VERIFICATION)
    shopper.ok(CONFIRM_VERIFICATION, {"code": read_outbox(stack, profile["phoneNumber"])})


_CHECKOUT_OF: dict[str, str] = {}  # application id -> its checkout session


def approved(shopper: Shopper, the_order: dict[str, Any]) -> dict[str, Any]:
    app = shopper.ok(APPLY, {"input": the_order, "key": uuid.uuid4().hex})["applyForCredit"]
    assert app["status"] == "APPROVED", app
    _CHECKOUT_OF[app["id"]] = session_of(the_order)["id"]
    return app


def confirm(shopper: Shopper, app_id: str) -> dict[str, Any]:
    """Confirmed by the shopper (a pay-in-4 plan's first part is charged to the card then), then
    shipped (captured in full) by the merchant: the plan runs."""
    authorized = shopper.ok(CONFIRM_PLAN, accepted(shopper, app_id))["confirmPlan"]
    first = authorized["installments"][0]["amount"]["amount"] if authorized["planType"] == "PAY_IN_4" else 0
    assert authorized["status"] == "AUTHORIZED" and authorized["amountPaid"]["amount"] == first, authorized
    ship(_CHECKOUT_OF[app_id])
    return shopper.ok(PLAN, {"id": authorized["id"]})["plan"]


def pay(shopper: Shopper, plan_id: str, amount: int) -> dict[str, Any]:
    variables = {"plan": plan_id, "amount": {"amount": amount, "currency": "EUR"}, "key": uuid.uuid4().hex}
    return shopper.ok(PAY, variables)["makePayment"]


def check_sums(plan: dict[str, Any]) -> None:
    insts = plan["installments"]
    assert sum(i["amount"]["amount"] for i in insts) == plan["totalOfPayments"]["amount"]
    assert plan["totalOfPayments"]["amount"] == plan["principal"]["amount"] + plan["financeCharge"]["amount"]
    assert sum(i["amountDue"]["amount"] for i in insts) == plan["totalDue"]["amount"]
    assert sum(i["amountPaid"]["amount"] for i in insts) == plan["amountPaid"]["amount"]
    assert plan["amountOutstanding"]["amount"] == plan["totalDue"]["amount"] - plan["amountPaid"]["amount"]


def test_pay_in_4_from_quote_to_completion(stack: Stack, new_shopper) -> None:
    shopper = new_shopper()
    onboard(shopper, stack, good_profile())
    offers = shopper.ok(QUOTE, {"input": {"amount": {"amount": 20_002, "currency": "EUR"}}})["quote"]
    pay_in_4 = next(o for o in offers if o["planType"] == "PAY_IN_4")
    assert [i["amount"]["amount"] for i in pay_in_4["installments"]] == [5_001, 5_001, 5_000, 5_000]
    assert pay_in_4["apr"] == 0 and pay_in_4["financeCharge"]["amount"] == 0

    app = approved(shopper, order(amount=20_002))
    credit = shopper.ok(CREDIT)
    limit = credit["me"]["creditLimit"]["amount"]
    assert credit["me"]["availableCredit"]["amount"] == limit - 20_002
    assert credit["creditLine"]["exposure"]["amount"] == 20_002

    plan = confirm(shopper, app["id"])
    assert plan["status"] == "ACTIVE" and plan["installments"][0]["status"] == "PAID"  # taken at confirmation
    assert plan["amountOutstanding"]["amount"] == 15_001
    check_sums(plan)
    first = pay(shopper, plan["id"], 7_000)  # partial: oldest first
    assert [a["sequence"] for a in first["allocations"]] == [2, 3]
    over = shopper.gql(PAY, {"plan": plan["id"], "amount": {"amount": 8_002, "currency": "EUR"}, "key": "k-over-1"})
    assert over.json()["errors"][0]["errorType"] == "Overpayment"
    last = pay(shopper, plan["id"], 8_001)
    assert last["planStatus"] == "COMPLETED" and last["amountOutstanding"]["amount"] == 0
    done = shopper.ok(PLAN, {"id": plan["id"]})["plan"]
    assert done["status"] == "COMPLETED" and {i["status"] for i in done["installments"]} == {"PAID"}
    check_sums(done)
    # nothing is owed any more, and a plan repaid on time raised the limit by 20 % (policy-2026-11-30)
    after = shopper.ok(CREDIT)["me"]
    assert after["creditLimit"]["amount"] == limit * 120 // 100 == after["availableCredit"]["amount"]
    assert plan["id"] in [p["id"] for p in shopper.ok(PLANS)["plans"]]
    stranger = new_shopper()
    assert stranger.ok(PLAN, {"id": plan["id"]})["plan"] is None
    assert stranger.ok(PLANS)["plans"] == []


def test_monthly_plan_from_quote_to_completion(stack: Stack, new_shopper) -> None:
    shopper = new_shopper()
    onboard(shopper, stack, good_profile())
    quote = shopper.ok(QUOTE, {"input": {"amount": {"amount": 45_001, "currency": "EUR"}, "planTypes": ["MONTHLY_3"]}})
    (offer,) = quote["quote"]
    assert offer["apr"] > 0 and offer["financeCharge"]["amount"] > 0
    assert sum(i["amount"]["amount"] for i in offer["installments"]) == offer["totalOfPayments"]["amount"]
    assert offer["totalOfPayments"]["amount"] == 45_001 + offer["financeCharge"]["amount"]

    app = approved(shopper, order(amount=45_001, plan="MONTHLY_3"))
    plan = confirm(shopper, app["id"])
    assert plan["financeCharge"] == app["offer"]["financeCharge"] and plan["installments"][0]["status"] == "DUE"
    check_sums(plan)
    for inst in plan["installments"]:
        result = pay(shopper, plan["id"], inst["amount"]["amount"])
    assert result["planStatus"] == "COMPLETED"
    check_sums(shopper.ok(PLAN, {"id": plan["id"]})["plan"])


def test_late_installment_gets_a_capped_fee(stack: Stack, new_shopper, travel) -> None:
    shopper = new_shopper()
    onboard(shopper, stack, good_profile())
    plan = confirm(shopper, approved(shopper, order(amount=12_000))["id"])
    # the card on file now declines every charge, so the scheduler cannot collect the second part
    add_card(shopper, CARD_NO_FUNDS)
    travel(14 + 7)  # the second part is due at +14 days; 7 days' grace
    assert shopper.ok(PLAN, {"id": plan["id"]})["plan"]["installments"][1]["status"] == "DUE"
    travel(14 + 8)
    late = shopper.ok(PLAN, {"id": plan["id"]})["plan"]
    second = late["installments"][1]
    assert second["status"] == "LATE" and second["lateSince"]
    assert second["lateFee"]["amount"] == 500  # EUR 5.00, under the 25 % cap (7.50)
    assert late["lateFees"]["amount"] == 500 and late["amountOutstanding"]["amount"] == 9_000 + 500
    check_sums(late)
    add_card(shopper)  # a card that pays: the shopper settles by hand
    paid = pay(shopper, plan["id"], 9_500)
    assert paid["planStatus"] == "COMPLETED"
    done = shopper.ok(PLAN, {"id": plan["id"]})["plan"]
    assert done["installments"][1]["status"] == "PAID" and done["installments"][1]["lateSince"]
    check_sums(done)


def test_partial_merchant_refund(stack: Stack, new_shopper) -> None:
    shopper = new_shopper()
    onboard(shopper, stack, good_profile())
    the_order = order(amount=20_000)
    plan = confirm(shopper, approved(shopper, the_order)["id"])
    r = merchants().client("demo-shop").refund(session_of(the_order)["id"], 7_000, "EUR", reason="one item returned")
    assert r.status_code == 201, r.text
    assert r.json()["refundedAmount"]["amount"] == 7_000 and r.json()["status"] == "PARTIALLY_REFUNDED"
    after = shopper.ok(PLAN, {"id": plan["id"]})["plan"]
    assert after["refunded"]["amount"] == 7_000 and after["installments"][3]["status"] == "REFUNDED"
    assert after["installments"][2]["refunded"]["amount"] == 2_000
    check_sums(after)
    done = pay(shopper, plan["id"], 8_000)
    assert done["planStatus"] == "COMPLETED"
    check_sums(shopper.ok(PLAN, {"id": plan["id"]})["plan"])


def test_decline_notice_and_released_hold(stack: Stack, new_shopper) -> None:
    poor = new_shopper()
    onboard(poor, stack, poor_profile())
    app = poor.ok(APPLY, {"input": order(amount=90_000), "key": uuid.uuid4().hex})["applyForCredit"]
    assert app["status"] == "DECLINED"
    notice = poor.ok(APPLICATION_NOTICE, {"id": app["id"]})["application"]["notice"]
    assert 1 <= len(notice["reasons"]) <= 4 and notice["action"] == "DECLINED"
    assert notice["reasons"][0]["description"] in notice["text"]

    shopper = new_shopper()
    onboard(shopper, stack, good_profile())
    held = approved(shopper, order(amount=30_000))
    line = shopper.ok(CREDIT)["creditLine"]
    cancelled = shopper.ok(CANCEL, {"id": held["id"]})["cancelApplication"]
    assert cancelled["applicationStatus"] == "CANCELLED"
    after = shopper.ok(CREDIT)["creditLine"]
    assert after["availableCredit"]["amount"] == line["availableCredit"]["amount"] + 30_000
