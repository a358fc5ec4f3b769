"""The demo merchant end to end in Chromium: an order at the shop, the checkout (sign-up, profile,
phone code, approval, confirmation), the return with a verified signature, then the shop's back
office ships (captures) and refunds. The screenshots of the steps go to
test-artifacts/screenshots/<test>/ (a few are committed to docs/screenshots/)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Shopper
from tests.journey import good_profile

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_order_checkout_return_ship_and_refund_at_the_demo_shop(shopper: Shopper) -> None:
    page = shopper.page
    profile = good_profile()

    # The shop: the espresso machine is in the cart; "Pay later" creates the session server-side.
    shopper.open_shop_and_pay_later()
    shopper.shot("sign-in")
    shopper.sign_up()
    order_panel = page.locator(".order")
    expect(order_panel).to_contain_text("Demo Shop")
    expect(order_panel).to_contain_text("€249.00")
    expect(order_panel).to_contain_text("1 × Espresso machine")
    shopper.fill_profile(profile)
    shopper.verify_phone(profile["phoneNumber"])
    reference = shopper.order_reference()

    shopper.choose_plan("Pay in 4")
    shopper.heading("You're approved")
    shopper.shot("approved")
    shopper.add_card()  # on the sandbox PSP's page
    page.get_by_label(re.compile("^I have read the .* and accept it")).check()  # the pre-contract information
    page.get_by_role("button", name="Confirm plan").click()
    shopper.heading("Your plan is confirmed")
    shopper.shot("confirmed")

    # Back at the shop with the platform's signed outcome, verified there, then read with GET.
    page.get_by_role("button", name="Return to Demo Shop").click()
    page.get_by_role("heading", name="Thank you, your order is placed").wait_for()
    assert page.url.startswith(f"{shopper.shop}/return?")
    assert parse_qs(urlsplit(page.url).query)["outcome"] == ["AUTHORIZED"]
    expect(page.locator(".verified")).to_have_text("Signed return verified: outcome AUTHORIZED.")
    expect(page.get_by_test_id("checkout-status")).to_have_text("AUTHORIZED")
    shopper.shot("returned")

    # The same return link again is a replay: refused, and said so.
    returned_at = page.url
    page.goto(returned_at)
    page.get_by_role("heading", name="This return was refused").wait_for()
    expect(page.get_by_test_id("refusal")).to_contain_text("already used")
    shopper.shot("replay-refused")

    # The back office: ship part of it (a partial capture), then the rest, then refund some.
    page.goto(f"{shopper.shop}/orders/{reference}")
    page.get_by_role("heading", name=f"Order {reference}").wait_for()
    expect(page.get_by_test_id("authorized")).to_have_text("€249.00")
    shopper.shot("order-authorized")
    page.get_by_label("Amount to ship").fill("100.00")
    page.get_by_role("button", name="Ship (capture)").click()
    expect(page.get_by_role("status")).to_have_text("Shipped: the amount is captured.")
    expect(page.get_by_test_id("status")).to_have_text("PARTIALLY_CAPTURED")
    expect(page.get_by_test_id("captured")).to_have_text("€100.00")
    expect(page.get_by_label("Amount to ship")).to_have_value("149.00")
    page.get_by_role("button", name="Ship (capture)").click()
    expect(page.get_by_test_id("status")).to_have_text("CAPTURED")
    expect(page.get_by_test_id("captured")).to_have_text("€249.00")
    shopper.shot("shipped")

    page.get_by_label("Amount to refund").fill("49.00")
    page.get_by_role("button", name="Refund").click()
    expect(page.get_by_role("status")).to_have_text("Refunded.")
    expect(page.get_by_test_id("status")).to_have_text("PARTIALLY_REFUNDED")
    expect(page.get_by_test_id("refunded")).to_have_text("€49.00")
    # More than was captured less what was refunded is refused by the platform, and shown.
    page.get_by_label("Amount to refund").fill("201.00")
    page.get_by_role("button", name="Refund").click()
    expect(page.get_by_role("alert")).to_contain_text("Refused:")
    expect(page.get_by_test_id("refunded")).to_have_text("€49.00")
    shopper.shot("refunded")


def test_a_forged_return_is_shown_as_refused(shopper: Shopper) -> None:
    page = shopper.page
    page.goto(
        f"{shopper.shop}/return?checkoutId=chk_x&outcome=AUTHORIZED&webhookId=ret_chk_x_AUTHORIZED"
        "&timestamp=1700000000&signature=v1,AAAA"
    )
    page.get_by_role("heading", name="This return was refused").wait_for()
    expect(page.get_by_test_id("refusal")).to_contain_text(re.compile("signature|did not start"))
    shopper.shot("forged-refused")
