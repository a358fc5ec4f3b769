"""Repayments that collect themselves, end to end: the sandbox PSP as a real process, the card
saved on its own page (as the checkout page does), the first pay-in-4 part charged at
confirmation, the scheduler charging due installments as the test moves the credit service's
clock (``CLOCK_OFFSET_FILE``), retries with SMS, and refunds back to the card."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from scripts.devstack import Stack
from tests.conftest import Shopper, free_ports, read_outbox, running
from tests.journey import (
    CARD_DECLINED,
    CARD_OK,
    CONFIRM_VERIFICATION,
    CREATE_PROFILE,
    PAYMENT_METHOD,
    START_VERIFICATION,
    add_card,
    good_profile,
    merchants,
    order,
    session_of,
)
from tests.plans_queries import APPLICATION_NOTICE, APPLY, CONFIRM_PLAN, CREDIT, PLANS

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


def onboard(shopper: Shopper, stack: Stack) -> dict[str, Any]:
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
    error = shopper.error(CONFIRM_PLAN, {"id": app["id"], "key": uuid.uuid4().hex})
    assert error["errorType"] == "PaymentMethodRequired" and "payment method" in error["message"]
    assert shopper.ok(PLANS)["plans"] == []


def test_a_declined_card_at_confirmation_leaves_no_plan_and_no_hold(stack: Stack, new_shopper) -> None:
    shopper = new_shopper(card=CARD_DECLINED)
    onboard(shopper, stack)
    the_order = order(amount=20_000)
    app = shopper.ok(APPLY, {"input": the_order, "key": uuid.uuid4().hex})["applyForCredit"]
    held = shopper.ok(CREDIT)["me"]
    assert held["availableCredit"]["amount"] == held["creditLimit"]["amount"] - 20_000
    error = shopper.error(CONFIRM_PLAN, {"id": app["id"], "key": uuid.uuid4().hex})
    assert error["errorType"] == "PaymentDeclined" and "payment method" in error["message"], error
    assert shopper.ok(PLANS)["plans"] == []  # no plan
    after = shopper.ok(CREDIT)
    assert after["me"]["availableCredit"]["amount"] == after["me"]["creditLimit"]["amount"]  # hold released
    assert shopper.ok(APPLICATION_NOTICE, {"id": app["id"]})["application"]["id"] == app["id"]
    session = merchants().client("demo-shop").checkout(session_of(the_order)["id"]).json()
    assert session["status"] != "AUTHORIZED" and not session.get("planId"), session
    failed = [e for e in psp_payments(stack) if e["type"] == "payment_intent.payment_failed"]
    assert failed, "the PSP saw the declined charge"
