"""Repayments that collect themselves, end to end: the sandbox PSP as a real process, the card
saved on its own page (as the checkout page does), the first pay-in-4 part charged at
confirmation, the scheduler charging due installments as the test moves the credit service's
clock (``CLOCK_OFFSET_FILE``), retries with SMS, and refunds back to the card."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from scripts.devstack import Stack
from tests.conftest import Shopper, free_ports, outbox_path, read_outbox, running
from tests.journey import (
    CARD_DECLINED,
    CARD_NO_FUNDS,
    CARD_OK,
    CONFIRM_VERIFICATION,
    CREATE_PROFILE,
    PAYMENT_METHOD,
    START_VERIFICATION,
    accepted,
    add_card,
    good_profile,
    merchants,
    order,
    session_of,
    ship,
)
from tests.plans_queries import APPLICATION_NOTICE, APPLY, CONFIRM_PLAN, CREDIT, PAY, PLAN, PLANS

pytestmark = pytest.mark.e2e

DAY = 86_400
PSP_KEY = "sk_test_sandbox_local_only"


@pytest.fixture(scope="module")
def clock_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clock") / "offset-seconds"
    path.write_text("0")
    return path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, clock_file: Path) -> Iterator[Stack]:
    """This module's own stack: its clock moves, and the scheduler runs every half second."""
    data_dir = tmp_path_factory.mktemp("payments-stack")
    env = {
        "SCORER_TIMEOUT_SECONDS": "1.5",
        "CLOCK_OFFSET_FILE": str(clock_file),
        "SWEEP_INTERVAL_SECONDS": "0.5",
        "COLLECTION_INTERVAL_SECONDS": "0.5",
    }
    stack = Stack(data_dir=data_dir, ports=free_ports(), extra_env=env, demo_merchant=True)
    with running(stack):
        yield stack


@pytest.fixture
def travel(clock_file: Path) -> Iterator[Callable[[float], None]]:
    def to(days: float) -> None:
        clock_file.write_text(str(int(days * DAY)))

    yield to
    clock_file.write_text("0")


def wait_for(check: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.3)


def sms_to(stack: Stack, phone: str) -> list[str]:
    path = outbox_path(stack)
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [m["body"] for m in lines if m["to"] == phone]


def psp_events(stack: Stack, kind: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{stack.url('psp')}/v1/events",
        params={"type": kind, "limit": 100},
        headers={"Authorization": f"Bearer {PSP_KEY}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["data"]
    return events


def charge_keys(stack: Stack, kind: str, plan_id: str) -> list[str]:
    """The idempotency keys of the PSP's ``kind`` events for ``plan_id``'s installments."""
    keys = [(e.get("request") or {}).get("idempotency_key") or "" for e in psp_events(stack, kind)]
    return sorted(k for k in keys if k.startswith(f"installment-{plan_id}-"))


def confirmed_and_shipped(shopper: Shopper, amount: int = 20_000) -> dict[str, Any]:
    """Approved, confirmed (the first part charged to the card now) and shipped: the plan runs."""
    the_order = order(amount=amount)
    app = shopper.ok(APPLY, {"input": the_order, "key": uuid.uuid4().hex})["applyForCredit"]
    assert app["status"] == "APPROVED", app
    authorized = shopper.ok(CONFIRM_PLAN, accepted(shopper, app["id"]))["confirmPlan"]
    first = authorized["installments"][0]["amount"]["amount"]
    assert authorized["status"] == "AUTHORIZED" and authorized["amountPaid"]["amount"] == first, authorized
    ship(session_of(the_order)["id"])
    plan: dict[str, Any] = shopper.ok(PLAN, {"id": authorized["id"]})["plan"]
    plan["checkoutId"] = session_of(the_order)["id"]
    return plan


def installment(shopper: Shopper, plan_id: str, sequence: int) -> dict[str, Any]:
    plan = shopper.ok(PLAN, {"id": plan_id})["plan"]
    found: dict[str, Any] = plan["installments"][sequence - 1]
    return found


def onboard(shopper: Shopper, stack: Stack) -> dict[str, Any]:
    """Profile and verified phone; the profile as sent."""
    profile = good_profile()
    shopper.ok(CREATE_PROFILE, {"input": {**profile, "email": shopper.email}})
    shopper.ok(START_VERIFICATION)
    shopper.ok(CONFIRM_VERIFICATION, {"code": read_outbox(stack, profile["phoneNumber"])})
    return profile


def psp_payments(stack: Stack) -> list[dict[str, Any]]:
    """Every payment intent event the sandbox recorded (its own API, as Stripe's dashboard would show)."""
    response = httpx.get(
        f"{stack.url('psp')}/v1/events",
        params={"limit": 100},
        headers={"Authorization": f"Bearer {PSP_KEY}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return [e for e in response.json()["data"] if e["type"].startswith("payment_intent.")]


def test_a_card_is_saved_on_the_psps_page_shown_and_replaced(stack: Stack, new_shopper) -> None:
    shopper = new_shopper(card=None)
    assert shopper.ok(PAYMENT_METHOD)["paymentMethod"] is None
    first = add_card(shopper, CARD_OK)
    assert first == {"type": "card", "brand": "visa", "last4": "4242", "expMonth": 12, "expYear": 2034}
    add_card(shopper, "5555555555554444")
    assert shopper.ok(PAYMENT_METHOD)["paymentMethod"]["last4"] == "4444"  # replaced
    # another shopper cannot complete this shopper's setup
    other = new_shopper(card=None)
    setup = shopper.ok(
        "mutation($u: String!) { startPaymentMethodSetup(returnUrl: $u) { setupId } }",
        {"u": f"{shopper.gateway}/checkout/"},
    )["startPaymentMethodSetup"]
    error = other.error(
        "mutation($id: ID!) { completePaymentMethodSetup(setupId: $id) { last4 } }", {"id": setup["setupId"]}
    )
    assert error["errorType"] == "PaymentMethodSetupNotFound"
    # a return address elsewhere is refused
    away = shopper.error(
        "mutation($u: String!) { startPaymentMethodSetup(returnUrl: $u) { setupId } }", {"u": "https://evil.example/"}
    )
    assert away["errorType"] == "ValidationError" and "returnUrl" in away["message"]


def test_no_plan_without_a_card(stack: Stack, new_shopper) -> None:
    shopper = new_shopper(card=None)
    onboard(shopper, stack)
    app = shopper.ok(APPLY, {"input": order(amount=20_000), "key": uuid.uuid4().hex})["applyForCredit"]
    assert app["status"] == "APPROVED"
    error = shopper.error(CONFIRM_PLAN, accepted(shopper, app["id"]))
    assert error["errorType"] == "PaymentMethodRequired" and "payment method" in error["message"]
    assert shopper.ok(PLANS)["plans"] == []


def test_a_declined_card_at_confirmation_leaves_no_plan_and_no_hold(stack: Stack, new_shopper) -> None:
    shopper = new_shopper(card=CARD_DECLINED)
    onboard(shopper, stack)
    the_order = order(amount=20_000)
    app = shopper.ok(APPLY, {"input": the_order, "key": uuid.uuid4().hex})["applyForCredit"]
    held = shopper.ok(CREDIT)["me"]
    assert held["availableCredit"]["amount"] == held["creditLimit"]["amount"] - 20_000
    error = shopper.error(CONFIRM_PLAN, accepted(shopper, app["id"]))
    assert error["errorType"] == "PaymentDeclined" and "payment method" in error["message"], error
    assert shopper.ok(PLANS)["plans"] == []  # no plan
    after = shopper.ok(CREDIT)
    assert after["me"]["availableCredit"]["amount"] == after["me"]["creditLimit"]["amount"]  # hold released
    assert shopper.ok(APPLICATION_NOTICE, {"id": app["id"]})["application"]["id"] == app["id"]
    session = merchants().client("demo-shop").checkout(session_of(the_order)["id"]).json()
    assert session["status"] != "AUTHORIZED" and not session.get("planId"), session
    failed = [e for e in psp_payments(stack) if e["type"] == "payment_intent.payment_failed"]
    assert failed, "the PSP saw the declined charge"


def test_three_installments_are_collected_on_their_due_dates(stack: Stack, new_shopper, travel) -> None:
    shopper = new_shopper()
    phone = onboard(shopper, stack)["phoneNumber"]
    plan = confirmed_and_shipped(shopper)
    assert plan["status"] == "ACTIVE" and plan["installments"][0]["status"] == "PAID"
    assert charge_keys(stack, "payment_intent.succeeded", plan["id"]) == [f"installment-{plan['id']}-1"]
    start = date.fromisoformat(plan["installments"][0]["dueDate"])
    for sequence in (2, 3, 4):
        due = date.fromisoformat(plan["installments"][sequence - 1]["dueDate"])
        days = (due - start).days
        travel(days - 2)  # two days before: a reminder, no charge
        wait_for(lambda d=due: any(f"due on {d.isoformat()}" in t for t in sms_to(stack, phone)), "the reminder")
        assert installment(shopper, plan["id"], sequence)["status"] == "DUE"
        travel(days)  # the due date: charged
        wait_for(lambda s=sequence: installment(shopper, plan["id"], s)["status"] == "PAID", f"installment {sequence}")
    done = shopper.ok(PLAN, {"id": plan["id"]})["plan"]
    assert done["status"] == "COMPLETED" and done["amountPaid"]["amount"] == 20_000
    assert done["lateFees"]["amount"] == 0
    time.sleep(1.5)  # the scheduler runs again (every 0.5 s): nothing more is charged
    keys = charge_keys(stack, "payment_intent.succeeded", plan["id"])
    assert keys == [f"installment-{plan['id']}-{n}" for n in (1, 2, 3, 4)]


def test_a_failed_charge_is_retried_with_sms_each_time_and_never_charged_twice(
    stack: Stack, new_shopper, travel
) -> None:
    shopper = new_shopper()
    phone = onboard(shopper, stack)["phoneNumber"]
    plan = confirmed_and_shipped(shopper)
    add_card(shopper, CARD_NO_FUNDS)  # the shopper's card on file now has no funds
    due = date.fromisoformat(plan["installments"][1]["dueDate"])
    days = (due - date.fromisoformat(plan["installments"][0]["dueDate"])).days
    travel(days)
    failure = wait_for(lambda: [t for t in sms_to(stack, phone) if "could not charge" in t], "the failure SMS")
    assert "insufficient_funds" in failure[0] and "ending 9995" in failure[0]
    retry_on = due.toordinal() + 1
    assert f"try again on {date.fromordinal(retry_on).isoformat()}" in failure[0]
    wait_for(lambda: [t for t in sms_to(stack, phone) if t.startswith("We will try again")], "the retry reminder")
    second = installment(shopper, plan["id"], 2)
    assert second["status"] == "DUE" and second["lateFee"]["amount"] == 0  # within the grace period: not late
    time.sleep(1.5)  # more scheduler runs on the same day: no new attempt
    assert charge_keys(stack, "payment_intent.payment_failed", plan["id"]) == [f"installment-{plan['id']}-2"]

    add_card(shopper, CARD_OK)  # replaced before the retry
    travel(days + 1)
    wait_for(lambda: installment(shopper, plan["id"], 2)["status"] == "PAID", "the retried charge")
    time.sleep(1.5)  # the scheduler runs several times more
    assert charge_keys(stack, "payment_intent.succeeded", plan["id"]) == [
        f"installment-{plan['id']}-1",
        f"installment-{plan['id']}-2-attempt-2",
    ]
    assert charge_keys(stack, "payment_intent.payment_failed", plan["id"]) == [f"installment-{plan['id']}-2"]
    paid = shopper.ok(PLAN, {"id": plan["id"]})["plan"]
    assert paid["amountPaid"]["amount"] == 10_000 and paid["lateFees"]["amount"] == 0


def test_a_refund_is_returned_to_the_card(stack: Stack, new_shopper) -> None:
    shopper = new_shopper()
    onboard(shopper, stack)
    plan = confirmed_and_shipped(shopper)
    client = merchants().client("demo-shop")
    refunded = client.refund(plan["checkoutId"], 20_000, "EUR", reason="the whole order came back")
    assert refunded.status_code == 201, refunded.text
    after = shopper.ok(PLAN, {"id": plan["id"]})["plan"]
    assert after["status"] == "REFUNDED" and after["returnedToShopper"]["amount"] == 5_000
    refunds = wait_for(
        lambda: [
            e
            for e in psp_events(stack, "refund.created")
            if e["data"]["object"]["amount"] == 5_000 and e["data"]["object"]["currency"] == "eur"
        ],
        "the PSP refund",
    )
    charge_events = psp_events(stack, "payment_intent.succeeded")
    first_charge = next(
        e["data"]["object"]["id"]
        for e in charge_events
        if (e.get("request") or {}).get("idempotency_key") == f"installment-{plan['id']}-1"
    )
    assert any(r["data"]["object"]["payment_intent"] == first_charge for r in refunds)


def test_a_payment_by_hand_is_charged_to_the_saved_card_once(stack: Stack, new_shopper) -> None:
    shopper = new_shopper()
    onboard(shopper, stack)
    plan = confirmed_and_shipped(shopper)
    key = uuid.uuid4().hex
    variables = {"plan": plan["id"], "amount": {"amount": 5_000, "currency": "EUR"}, "key": key}
    paid = shopper.ok(PAY, variables)["makePayment"]
    again = shopper.ok(PAY, variables)["makePayment"]  # a retry: the same payment, not a second charge
    assert paid["id"] == again["id"] and paid["source"] == "SHOPPER"
    keys = [(e.get("request") or {}).get("idempotency_key") for e in psp_events(stack, "payment_intent.succeeded")]
    assert keys.count(f"payment-{shopper.sub}-{key}") == 1

    add_card(shopper, CARD_NO_FUNDS)
    declined = shopper.error(PAY, {**variables, "key": uuid.uuid4().hex})
    assert declined["errorType"] == "PaymentDeclined" and "payment method" in declined["message"]
    assert shopper.ok(PLAN, {"id": plan["id"]})["plan"]["amountPaid"]["amount"] == 10_000  # nothing recorded
