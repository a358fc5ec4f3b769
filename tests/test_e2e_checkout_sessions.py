"""The order is the merchant's (issue 10; issue 17 item 2): a shopper who edits the page, the
URL or the GraphQL input cannot change the merchant, the order reference or the amount, a
session backs at most one live application, and the demo shop refuses a forged or replayed
signed return. Against the real processes, the demo merchant included."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest

from scripts.devstack import Stack
from tests.conftest import Shopper
from tests.journey import (
    APPLICATIONS,
    APPLY,
    accepted,
    checkout,
    good_profile,
    merchants,
    order,
    poor_profile,
    session_of,
)
from tests.plans_queries import CONFIRM_PLAN
from tests.test_e2e_journey import verified

pytestmark = pytest.mark.e2e

CHECKOUT_SESSION = """
query C($token: String!) {
  checkoutSession(token: $token) {
    id merchantId merchantName orderReference amount { amount currency } items { name quantity }
    planTypes offers { planType totalOfPayments { amount currency } } status applicationId merchantRedirectUrl
  }
}"""


def apply(shopper: Shopper, the_order: dict[str, Any], key: str | None = None) -> httpx.Response:
    """The one place these tests apply: the input comes from ``journey.order``."""
    return shopper.gql(APPLY, {"input": the_order, "key": key or uuid.uuid4().hex})


def applied(shopper: Shopper, the_order: dict[str, Any]) -> dict[str, Any]:
    body = apply(shopper, the_order).json()
    assert not body.get("errors"), body
    return body["data"]["applyForCredit"]


def merchant_view(checkout_id: str, merchant: str = "demo-shop") -> dict[str, Any]:
    response = merchants().client(merchant).checkout(checkout_id)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_shopper_reads_the_merchants_order_and_finances_exactly_it(stack: Stack, new_shopper) -> None:
    shopper = new_shopper()
    verified(shopper, stack, good_profile())
    the_order = order(amount=24_900)
    session = session_of(the_order)
    seen = shopper.ok(CHECKOUT_SESSION, {"token": the_order["checkoutToken"]})["checkoutSession"]
    assert (seen["id"], seen["merchantId"], seen["orderReference"]) == (
        session["id"],
        "demo-shop",
        session["orderReference"],
    )
    assert seen["amount"] == {"amount": 24_900, "currency": "EUR"} and seen["status"] == "OPEN"
    assert seen["merchantName"] and seen["items"] == [{"name": "Espresso machine", "quantity": 1}]
    assert "PAY_IN_4" in [o["planType"] for o in seen["offers"]]
    assert seen["merchantRedirectUrl"] is None  # nothing to return with while the shopper chooses

    app = applied(shopper, the_order)
    assert app["status"] == "APPROVED", app
    assert (app["merchantId"], app["orderReference"], app["amount"]) == (
        "demo-shop",
        session["orderReference"],
        {"amount": 24_900, "currency": "EUR"},
    )
    assert app["checkoutId"] == session["id"]
    assert merchant_view(session["id"])["status"] == "APPROVED"


@pytest.mark.parametrize(
    "edit",
    [
        {"amount": {"amount": 1_000, "currency": "EUR"}},  # finance 10.00 of a 249.00 order
        {"merchantId": "demo-books"},
        {"orderReference": "someone-elses-order"},
        {"merchantId": "demo\u200b-shop"},  # an invisible character
    ],
)
def test_an_edited_graphql_input_is_refused_and_stores_nothing(stack: Stack, new_shopper, edit: dict) -> None:
    shopper = new_shopper()
    verified(shopper, stack, good_profile())
    the_order = order(amount=24_900)
    body = apply(shopper, {**the_order, **edit}).json()
    assert body.get("errors") and body.get("data") is None, body
    assert body["errors"][0]["errorType"] in {"ValidationError", "BadRequest"}, body
    assert shopper.ok(APPLICATIONS)["applications"]["items"] == []
    assert merchant_view(session_of(the_order)["id"])["status"] == "OPEN"


def test_another_token_is_another_merchants_session_never_a_new_amount(stack: Stack, new_shopper) -> None:
    """The only thing a shopper can choose is which session: each keeps its merchant's amount."""
    shopper = new_shopper()
    verified(shopper, stack, good_profile())
    expensive = order(amount=24_900)
    cheap = order(amount=1_000)
    app = applied(shopper, cheap)
    assert app["amount"]["amount"] == 1_000 and app["checkoutId"] == session_of(cheap)["id"]
    assert merchant_view(session_of(expensive)["id"])["status"] == "OPEN"  # untouched
    assert merchant_view(session_of(cheap)["id"])["amount"]["amount"] == 1_000


def test_an_unknown_or_malformed_token_finances_nothing(stack: Stack, new_shopper) -> None:
    shopper = new_shopper()
    verified(shopper, stack, good_profile())
    unknown = "ct_" + uuid.uuid4().hex + uuid.uuid4().hex[:8]
    assert shopper.ok(CHECKOUT_SESSION, {"token": unknown})["checkoutSession"] is None
    error = shopper.error(APPLY, {"input": {"checkoutToken": unknown, "planType": "PAY_IN_4"}, "key": "k-unknown"})
    assert error["errorType"] not in {"InternalFailure", "DependencyFailed"}, error
    error = shopper.error(APPLY, {"input": {"checkoutToken": "../x", "planType": "PAY_IN_4"}, "key": "k-malformed"})
    assert (error["errorType"], error["errorInfo"]["field"]) == ("ValidationError", "input.checkoutToken")
    assert shopper.ok(APPLICATIONS)["applications"]["items"] == []


def test_one_session_backs_one_live_application(stack: Stack, new_shopper) -> None:
    """The victim's session cannot be claimed by another shopper, nor applied for twice."""
    victim, attacker = new_shopper(), new_shopper()
    verified(victim, stack, good_profile())
    verified(attacker, stack, good_profile())
    the_order = order(amount=20_000)
    first = applied(victim, the_order)
    assert first["status"] == "APPROVED"

    body = apply(attacker, the_order).json()
    assert body.get("errors") and body["data"] is None, body
    assert attacker.ok(APPLICATIONS)["applications"]["items"] == []
    body = apply(victim, {**the_order, "planType": "MONTHLY_3"}).json()
    assert body.get("errors"), body
    assert [a["id"] for a in victim.ok(APPLICATIONS)["applications"]["items"]] == [first["id"]]
    assert merchant_view(session_of(the_order)["id"])["applicationId"] == first["id"]


def _signed_return(shopper: Shopper, the_order: dict[str, Any]) -> str:
    seen = shopper.ok(CHECKOUT_SESSION, {"token": the_order["checkoutToken"]})["checkoutSession"]
    assert seen["merchantRedirectUrl"], seen
    return str(seen["merchantRedirectUrl"])


def _with(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_the_demo_shop_accepts_a_signed_return_once_and_refuses_a_forged_one(stack: Stack, new_shopper) -> None:
    shopper = new_shopper()
    verified(shopper, stack, good_profile())
    shop = stack.url("demo_merchant")
    # The shop's own server creates the session, as a shopper pressing "Pay later" makes it do.
    to_checkout = httpx.post(f"{shop}/checkout", data={"qty-espresso-machine": "1"}, follow_redirects=False)
    assert to_checkout.status_code == 303, to_checkout.text
    redirect = to_checkout.headers["location"]
    assert redirect.startswith(f"{stack.url('gateway')}/checkout/?token=")
    the_order = {"checkoutToken": parse_qs(urlsplit(redirect).query)["token"][0], "planType": "PAY_IN_4"}

    app = applied(shopper, the_order)
    assert app["status"] == "APPROVED" and app["amount"]["amount"] == 24_900
    shopper.ok(CONFIRM_PLAN, accepted(shopper, app["id"]))
    signed = _signed_return(shopper, the_order)
    assert signed.startswith(f"{shop}/return?")
    query = parse_qs(urlsplit(signed).query)
    assert query["outcome"] == ["AUTHORIZED"] and query["checkoutId"] == [app["checkoutId"]]

    # forged: the shopper edits the outcome or the checkout, or signs it with a key of their own
    for forged in (
        _with(signed, outcome="DECLINED"),
        _with(signed, checkoutId="chk_other", webhookId="ret_chk_other_AUTHORIZED"),
        _with(signed, signature="v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
        _with(signed, timestamp=str(int(query["timestamp"][0]) + 1)),
    ):
        page = httpx.get(forged)
        assert page.status_code == 400 and "This return was refused" in page.text, forged

    page = httpx.get(signed)
    assert page.status_code == 200, page.text
    assert "Signed return verified" in page.text and "AUTHORIZED" in page.text
    replay = httpx.get(signed)
    assert replay.status_code == 400 and "already used" in replay.text


def test_a_decline_returns_to_the_shop_signed_with_its_outcome(stack: Stack, new_shopper) -> None:
    shopper = new_shopper()
    verified(shopper, stack, poor_profile())
    the_order = order(amount=90_000)
    app = applied(shopper, the_order)
    assert app["status"] == "DECLINED"
    assert merchant_view(session_of(the_order)["id"])["status"] == "DECLINED"
    query = parse_qs(urlsplit(_signed_return(shopper, the_order)).query)
    assert query["outcome"] == ["DECLINED"] and query["checkoutId"] == [session_of(the_order)["id"]]


def test_a_checkout_of_another_merchant_is_not_readable_by_it(stack: Stack) -> None:
    session = checkout(amount=3_000, currency="GBP")  # demo-books
    assert merchants().client("demo-books").checkout(session["id"]).status_code == 200
    assert merchants().client("demo-shop").checkout(session["id"]).status_code == 404
