"""The security review's refund scenario (finding H1) end to end over the real processes, now
that the order is the merchant's (issue 10, issue 17 item 2).

Before: a shopper applied with a free-text ``merchantId``/``orderReference`` from the checkout
link, so an attacker could claim a victim's order first (the victim then got
``OrderAlreadyFinanced``) and a refund by order could land on the attacker's plan. Now the order
exists only as the merchant's checkout session: the attacker can apply only with a token, the
victim's token is the victim's once they applied, and the merchant refunds by its checkout,
which reaches the victim's plan. An order reference with the key separator is refused when the
merchant creates the session.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from scripts.devstack import Stack
from tests.conftest import Shopper, read_outbox
from tests.journey import (
    CONFIRM_VERIFICATION,
    CREATE_PROFILE,
    START_VERIFICATION,
    accepted,
    good_profile,
    merchants,
    order,
    session_of,
    ship,
)
from tests.plans_queries import APPLY, CONFIRM_PLAN, PLAN

pytestmark = pytest.mark.e2e


def onboard(shopper: Shopper, stack: Stack) -> None:
    profile = good_profile()
    shopper.ok(CREATE_PROFILE, {"input": {**profile, "email": shopper.email}})
    shopper.ok(START_VERIFICATION)
    shopper.ok(CONFIRM_VERIFICATION, {"code": read_outbox(stack, profile["phoneNumber"])})


def apply(shopper: Shopper, the_order: dict[str, Any]) -> httpx.Response:
    return shopper.gql(APPLY, {"input": the_order, "key": uuid.uuid4().hex})


def plan_for(shopper: Shopper, the_order: dict[str, Any]) -> dict[str, Any]:
    body = apply(shopper, the_order).json()
    assert not body.get("errors"), body
    app = body["data"]["applyForCredit"]
    assert app["status"] == "APPROVED", app
    plan = shopper.ok(CONFIRM_PLAN, accepted(shopper, app["id"]))["confirmPlan"]
    ship(session_of(the_order)["id"])
    return plan


def refund_by_order(body: dict[str, Any]) -> httpx.Response:
    """The legacy refund by order (``/v1/merchant/refunds``), signed with demo-shop's registry key."""
    return merchants().client("demo-shop").post("/v1/merchant/refunds", body)


def test_a_refund_by_order_never_lands_on_another_shoppers_plan(stack: Stack, new_shopper) -> None:
    victim, attacker = new_shopper(), new_shopper()
    onboard(victim, stack)
    onboard(attacker, stack)
    the_order = order(amount=20_000)
    victims_plan = plan_for(victim, the_order)

    # the attacker reuses the victim's checkout link: refused, nothing made
    body = apply(attacker, the_order).json()
    assert body.get("errors") and body["data"] is None, body
    assert attacker.ok("query { applications { items { id } } }")["applications"]["items"] == []

    # the merchant refunds its order: the money reaches the victim's plan, the only one it backs
    r = merchants().client("demo-shop").refund(session_of(the_order)["id"], 5_000, "EUR")
    assert r.status_code == 201, r.text
    assert r.json()["planId"] == victims_plan["id"] and r.json()["refundedAmount"]["amount"] == 5_000
    assert victim.ok(PLAN, {"id": victims_plan["id"]})["plan"]["refunded"]["amount"] == 5_000
    # a refund by order text (the legacy route) is sent to the checkout's own route, never guessed
    reference = session_of(the_order)["orderReference"]
    by_order = {"merchantId": "demo-shop", "orderReference": reference, "reason": "returned"}
    r = refund_by_order({**by_order, "amount": {"amount": 1_000, "currency": "EUR"}})
    assert r.status_code == 409 and "/v1/merchant/checkouts/{id}/refunds" in r.json()["error"]["message"], r.text
    assert victim.ok(PLAN, {"id": victims_plan["id"]})["plan"]["refunded"]["amount"] == 5_000


def test_an_order_reference_with_the_key_separator_is_refused_to_the_merchant(stack: Stack) -> None:
    origin = merchants().origin("demo-shop")
    money = {"amount": 20_000, "currency": "EUR"}
    body = {
        "orderReference": "order#1",
        "amount": money,
        "items": [{"name": "Lamp", "quantity": 1, "unitPrice": money}],
        "returnUrl": f"{origin}/return",
        "cancelUrl": f"{origin}/cancel",
    }
    r = merchants().client("demo-shop").create_checkout(body)
    assert r.status_code == 422 and r.json()["error"]["field"] == "orderReference", r.text
    r = refund_by_order(
        {"merchantId": "a#b", "orderReference": "c", "amount": {"amount": 1, "currency": "EUR"}, "reason": "x"}
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "merchantId"
