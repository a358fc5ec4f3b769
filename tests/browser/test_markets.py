"""Each market's checkout in a real browser: a euro, a pound and a dollar shopper see their
market's rate name and figures, read and accept the market's pre-contract information before
"Confirm", and find the accepted document in "My plans"."""

from __future__ import annotations

import asyncio
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from bnpl_credit.decision.schedule import add_months
from bnpl_credit.markets.catalog import load_catalog
from bnpl_credit.merchants import registry
from bnpl_credit.storage.sqlite import SqliteStore
from bnpl_credit.testing import MerchantClient
from playwright.sync_api import expect

from tests import journey
from tests.browser.conftest import Shopper
from tests.journey import checkout, good_profile, phone

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ADDRESSES = {
    "ES": {"line1": "Calle Mayor 1", "city": "Madrid", "postalCode": "28013", "country": "ES"},
    "GB": {"line1": "1 High Street", "city": "London", "postalCode": "SW1A 1AA", "country": "GB"},
    "US": {"line1": "1 Main Street", "city": "Springfield", "postalCode": "62701", "country": "US"},
}


_US_SHOP: list[MerchantClient] = []


def us_checkout(amount: int) -> dict[str, Any]:
    """A session of a US merchant (the seeded demo shops sell in euros and pounds): registered in
    the running stack's registry once, as ``python -m bnpl_credit.merchants create`` would."""
    merchants = journey.merchants()
    origin = merchants.origin("demo-shop")
    if not _US_SHOP:

        async def create() -> Any:
            store = SqliteStore(merchants.credentials_file.parent / "credit.sqlite3")
            return await registry.create_merchant(
                store,
                load_catalog(),
                merchant_id="demo-us-shop",
                display_name="Demo US Shop",
                market="US",
                currency="USD",
                origins=[origin],
                webhook_url=None,
                now=datetime.now(UTC),
                local=True,
            )

        with ThreadPoolExecutor(1) as pool:  # the browser driver may hold this thread's event loop
            merchant = pool.submit(lambda: asyncio.run(create())).result()
        key = merchant.keys[0]
        credentials = {"accessKeyId": key.access_key_id, "secretAccessKey": key.secret_access_key}
        _US_SHOP.append(MerchantClient(merchants.credit_url, credentials))
    body = {
        "orderReference": f"US-{uuid.uuid4().hex[:8]}",
        "amount": {"amount": amount, "currency": "USD"},
        "returnUrl": f"{origin}/return",
        "cancelUrl": f"{origin}/cancel",
    }
    response = _US_SHOP[0].create_checkout(body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def open_checkout(shopper: Shopper, *, currency: str, country: str, amount: int, **overrides: object) -> None:
    """The one way these tests reach the checkout: the merchant's checkout session in ``currency``
    and its link, then sign-up, profile and phone."""
    # the market's merchant's server creates the session (a US shop for dollars)
    session = us_checkout(amount) if currency == "USD" else checkout(amount, currency)
    shopper.page.goto(session["redirectUrl"])
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
    shopper.add_card()  # on the sandbox PSP's page, which sends the shopper back here
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


def test_a_shopper_who_confirms_after_midnight_reads_and_accepts_the_new_dates(shopper: Shopper) -> None:
    page = shopper.page
    offset = shopper.stack.data_dir / "clock-offset"
    now = datetime.now(UTC)
    decided = datetime.combine(now.date(), time(23, 50), tzinfo=UTC)
    decided += timedelta(days=1) if decided < now + timedelta(minutes=5) else timedelta(0)
    offset.write_text(str(int((decided - now).total_seconds())))  # the credit service: 23:50
    try:
        open_checkout(shopper, currency="EUR", country="ES", amount=30_000)
        shopper.choose_plan("6 monthly payments")
        shopper.heading("You're approved")
        shopper.add_card()  # a plan needs a card on file (the sandbox PSP's page, and back)
        panel = page.locator("section.precontract")
        first_due = add_months(decided.date(), 1)
        expect(panel.locator(".document")).to_contain_text(f"{first_due.day} {first_due:%B} {first_due.year}")
        page.get_by_label("I have read the Standard European Consumer Credit Information and accept it.").check()
        offset.write_text(str(int((decided + timedelta(minutes=15) - datetime.now(UTC)).total_seconds())))  # 00:05
        page.get_by_role("button", name="Confirm plan").click()
        # refused: the plan's dates would count from the new day; the page shows the new document
        expect(page.get_by_role("status")).to_contain_text("read the updated information and accept it again")
        moved = add_months(decided.date() + timedelta(days=1), 1)
        expect(panel.locator(".document")).to_contain_text(f"{moved.day} {moved:%B} {moved.year}")
        box = page.get_by_label("I have read the Standard European Consumer Credit Information and accept it.")
        expect(box).not_to_be_checked()
        shopper.shot("document-of-the-new-day")
        box.check()
        page.get_by_role("button", name="Confirm plan").click()
        shopper.heading("Your plan is confirmed")
    finally:
        offset.write_text("0")
