"""The security review's refund scenario (finding H1) end to end over the real processes.

A victim confirms a plan for ``coffee-shop`` / ``order-X``; an attacker applies with the same
``merchantId`` and ``orderReference`` (free text from the checkout link). Before the fix the
attacker got a plan too, and the merchant's refund by order landed on the attacker's plan.
Now the attacker is refused (``OrderAlreadyFinanced``), the refund reaches the victim's plan,
and where two plans ever carry one order (the first refunded in full, the order bought
again) a refund by order is refused (``AmbiguousOrder``) instead of picking one.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from bnpl_common.sigv4 import SigV4Auth
from bnpl_credit.settings import LOCAL_MERCHANT_ACCESS_KEY_ID, LOCAL_MERCHANT_SECRET
from botocore.credentials import Credentials

from scripts.devstack import Stack
from tests.conftest import Shopper, read_outbox
from tests.journey import CONFIRM_VERIFICATION, CREATE_PROFILE, START_VERIFICATION, good_profile
from tests.plans_queries import APPLY, CONFIRM_PLAN, PLAN

pytestmark = pytest.mark.e2e

MERCHANT = SigV4Auth(Credentials(LOCAL_MERCHANT_ACCESS_KEY_ID, LOCAL_MERCHANT_SECRET), region="us-east-1")


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
    return shopper.ok(CONFIRM_PLAN, {"id": app["id"], "key": uuid.uuid4().hex})["confirmPlan"]


def refund(stack: Stack, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{stack.url('credit')}/v1/merchant/refunds",
        json=body,
        auth=MERCHANT,
        headers={"Idempotency-Key": uuid.uuid4().hex},
        timeout=30,
    )


def test_a_refund_by_order_never_lands_on_another_shoppers_plan(stack: Stack, new_shopper) -> None:
    victim, attacker = new_shopper(), new_shopper()
    onboard(victim, stack)
    onboard(attacker, stack)
    the_order = {
        "merchantId": "coffee-shop",
        "orderReference": f"order-{uuid.uuid4().hex[:8]}",
        "amount": {"amount": 20_000, "currency": "EUR"},
        "planType": "PAY_IN_4",
    }
    victims_plan = plan_for(victim, the_order)

    # the attacker reuses the order from the checkout link: refused, nothing made
    body = apply(attacker, the_order).json()
    assert body.get("errors") and body["errors"][0]["errorType"] == "OrderAlreadyFinanced", body
    assert body["data"] is None or body["data"].get("applyForCredit") is None
    assert attacker.ok("query { applications { items { id } } }")["applications"]["items"] == []

    by_order = {"merchantId": "coffee-shop", "orderReference": the_order["orderReference"], "reason": "returned"}
    r = refund(stack, {**by_order, "amount": {"amount": 5_000, "currency": "EUR"}})
    assert r.status_code == 201, r.text
    assert r.json()["planId"] == victims_plan["id"]
    assert victim.ok(PLAN, {"id": victims_plan["id"]})["plan"]["refunded"]["amount"] == 5_000

    # refunded in full, the order may be bought again; then a refund by order cannot tell the plans apart
    r = refund(stack, {**by_order, "amount": {"amount": 15_000, "currency": "EUR"}})
    assert r.status_code == 201 and r.json()["planStatus"] == "REFUNDED", r.text
    attackers_plan = plan_for(attacker, the_order)
    r = refund(stack, {**by_order, "amount": {"amount": 1_000, "currency": "EUR"}})
    assert r.status_code == 409, r.text
    assert r.json()["error"]["type"] == "AmbiguousOrder" and r.json()["error"]["field"] == "planId"
    assert attacker.ok(PLAN, {"id": attackers_plan["id"]})["plan"]["refunded"]["amount"] == 0
    r = refund(stack, {"planId": attackers_plan["id"], "amount": {"amount": 1_000, "currency": "EUR"}, "reason": "x"})
    assert r.status_code == 201 and r.json()["planId"] == attackers_plan["id"]


def test_order_text_with_the_key_separator_is_refused(stack: Stack, new_shopper) -> None:
    shopper = new_shopper()
    onboard(shopper, stack)
    the_order = {
        "merchantId": "coffee#shop",
        "orderReference": "order-1",
        "amount": {"amount": 20_000, "currency": "EUR"},
        "planType": "PAY_IN_4",
    }
    error = apply(shopper, the_order).json()["errors"][0]
    assert error["errorType"] == "ValidationError", error
    r = refund(
        stack, {"merchantId": "a#b", "orderReference": "c", "amount": {"amount": 1, "currency": "EUR"}, "reason": "x"}
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "merchantId"
