"""The card page in Chromium: a test card saved through 3-D Secure, then back to the shop."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlencode

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic"]
SHOP = "http://127.0.0.1:9/checkout/"  # never reached: the test stops at the navigation


def test_a_shopper_saves_a_card_through_3ds_and_is_sent_back(sandbox, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    customer = sandbox.post("/v1/customers").json()["id"]
    intent = sandbox.post("/v1/setup_intents", {"customer": customer}).json()
    url = f"{sandbox.url}/setup/{intent['id']}?{urlencode({'return_url': SHOP})}#{intent['client_secret']}"
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_page()
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("console", lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None)
            page.goto(url)
            page.fill("#number", "4000002500003155")
            page.fill("#expiry", "12/34")
            page.fill("#cvc", "123")
            page.click("#card-form button")
            page.wait_for_selector("#challenge:not([hidden])")
            # before the redirect: after it the page is the unreachable shop's error page, which
            # Chromium may refuse to capture while it is still navigating
            page.screenshot(path=str(tmp_path / "challenge.png"))
            with page.expect_request(lambda request: request.url.startswith(SHOP)) as back:
                page.click("#authenticate-complete")
            redirected = back.value.url
        finally:
            browser.close()
    assert redirected == f"{SHOP}?setup_intent={intent['id']}&redirect_status=succeeded"
    assert not problems, problems
    saved = sandbox.get(f"/v1/setup_intents/{intent['id']}").json()
    assert saved["status"] == "succeeded"
    card = sandbox.get(f"/v1/payment_methods/{saved['payment_method']}").json()["card"]
    assert (card["last4"], card["exp_month"], card["exp_year"]) == ("3155", 12, 2034)
