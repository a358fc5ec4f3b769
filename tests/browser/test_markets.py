"""Each market's checkout in a real browser: a euro, a pound and a dollar shopper see their
market's rate name and figures, read and accept the market's pre-contract information before
"Confirm", and find the accepted document in "My plans"."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Shopper
from tests.journey import good_profile, phone

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ADDRESSES = {
    "ES": {"line1": "Calle Mayor 1", "city": "Madrid", "postalCode": "28013", "country": "ES"},
    "GB": {"line1": "1 High Street", "city": "London", "postalCode": "SW1A 1AA", "country": "GB"},
    "US": {"line1": "1 Main Street", "city": "Springfield", "postalCode": "62701", "country": "US"},
}


def open_checkout(shopper: Shopper, *, currency: str, country: str, amount: int, **overrides: object) -> None:
    """The one way these tests reach the checkout: the shop's link with an order in ``currency``
    (the lead switches this helper to checkout sessions), then sign-up, profile and phone."""
    shop = f"{shopper.base}/shop/"
    query = urlencode(
        {
            "merchantId": "demo-shop",
            "merchantName": "Demo Coffee Shop",
            "orderReference": f"mkt-{currency.lower()}-{uuid.uuid4().hex[:8]}",
            "amount": amount,
            "currency": currency,
            "returnUrl": f"{shop}return.html",
        }
    )
    shopper.page.goto(f"{shopper.base}/checkout/?{query}")
    shopper.heading("Sign in to pay later")
    shopper.sign_up()
    number = phone()
    base = good_profile(phoneNumber=number)
    names = ("monthlyIncome", "monthlyExpenses", "assets", "debt")
    money = {name: {**base[name], "currency": currency} for name in names} | overrides
    shopper.fill_profile(good_profile(phoneNumber=number, address=ADDRESSES[country], **money))
    shopper.verify_phone(number)
    shopper.heading("Choose your plan")


@pytest.mark.parametrize(
    ("currency", "country", "rate", "title", "wording"),
    [
        ("EUR", "ES", r"APRC\d+\.\d%", "Standard European Consumer Credit Information", "APRC"),
        ("GBP", "GB", r"APR\d+\.\d%", "Pre-contract credit information", "Representative APR"),
        ("USD", "US", r"APR\d+\.\d\d%", "Truth in Lending disclosures", "ANNUAL PERCENTAGE RATE"),
    ],
    ids=["EUR", "GBP", "USD"],
)
def test_a_shopper_accepts_their_markets_document_and_finds_it_in_my_plans(
    shopper: Shopper, currency: str, country: str, rate: str, title: str, wording: str
) -> None:
    page = shopper.page
    open_checkout(shopper, currency=currency, country=country, amount=30_000)
    shopper.choose_plan("6 monthly payments")
    shopper.heading("You're approved")
    # the market's rate name with its own rounding (EU, UK: one decimal; US: two)
    expect(page.locator("dl.costs")).to_contain_text(re.compile(rate))
    panel = page.locator("section.precontract")
    expect(panel.get_by_role("heading", level=2, name=title)).to_be_visible()
    expect(panel.locator(".document")).to_contain_text(wording)
    shopper.shot(f"document-{currency.lower()}")

    page.get_by_role("button", name="Confirm plan").click()  # not accepted yet: refused on the page
    expect(page.get_by_role("status")).to_contain_text("tick the box to accept it")
    expect(page.get_by_role("heading", level=1, name="You're approved")).to_be_visible()
    page.get_by_label(f"I have read the {title} and accept it.").check()
    shopper.shot(f"accepted-{currency.lower()}")
    page.get_by_role("button", name="Confirm plan").click()
    shopper.heading("Your plan is confirmed")
    plan_id = page.get_by_test_id("plan-id").inner_text()

    page.get_by_role("link", name="My plans").first.click()
    shopper.heading("My plans")
    plan = page.locator(f"article[data-plan-id='{plan_id}']")
    expect(plan.locator("dl.costs")).to_contain_text(re.compile(rate))
    link = plan.get_by_role("link", name=f"{title} (PDF)")
    expect(link).to_be_visible()
    shopper.shot(f"my-plans-{currency.lower()}")
    download = page.request.get(shopper.base + str(link.get_attribute("href")))  # a relative link
    assert download.status == 200 and download.headers["content-type"] == "application/pdf"
    assert download.body().startswith(b"%PDF")


def test_a_declined_euro_shopper_gets_the_notice_as_a_document(shopper: Shopper) -> None:
    page = shopper.page
    # 1 200.00 - 1 000.00 leaves 200.00: a 400.00 pay in 4 asks 300.00 in its first 30 days
    open_checkout(
        shopper,
        currency="EUR",
        country="ES",
        amount=40_000,
        monthlyIncome={"amount": 120_000, "currency": "EUR"},
        monthlyExpenses={"amount": 100_000, "currency": "EUR"},
    )
    shopper.choose_plan("Pay in 4")
    shopper.heading("We can't offer pay later for this order")
    expect(page.locator("ul.reasons li[data-code=AFFORDABILITY]")).to_contain_text(
        "first 30 days of this plan (EUR 300.00)"
    )
    link = page.get_by_role("link", name="Your credit application: our decision (PDF)")
    expect(link).to_be_visible()
    shopper.shot("declined-eur")
    download = page.request.get(shopper.base + str(link.get_attribute("href")))
    assert download.status == 200 and download.body().startswith(b"%PDF")
