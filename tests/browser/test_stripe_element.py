"""The checkout page in Stripe mode (as in AWS): the setup answers a clientSecret and no pageUrl,
so the page loads Stripe.js, mounts the Payment Element with that secret and confirms the setup
with confirmSetup, coming back through the same completion path as after the sandbox's page.

Stripe.js is the edge we do not own and cannot reach here: a local stand-in
(``stripe_stand_in/``, served by this test) keeps its calls and takes the card in a frame of its
own origin, which confirms the SetupIntent at the sandbox PSP (Stripe's API). The gateway runs
with ``PSP=stripe`` and ``STRIPE_JS_URL`` at the stand-in; the credit service's sandbox answers
setups without a page (``PSP_SANDBOX_CARD_FIELD=element``), as Stripe does."""

from __future__ import annotations

import json
import re
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from bnpl_common.testing import free_port
from playwright.sync_api import expect

from scripts.devstack import Stack
from tests.browser.conftest import DESKTOP, SCREENSHOTS, TIMEOUT_MS, Shopper
from tests.conftest import free_ports, running
from tests.journey import good_profile

pytestmark = pytest.mark.browser

STAND_IN = Path(__file__).parent / "stripe_stand_in"
PUBLISHABLE_KEY = "pk_test_standin0001"
FILES = {
    "/v3/": ("stripe.js", "application/javascript"),
    "/element.html": ("element.html", "text/html"),
    "/element.js": ("element.js", "application/javascript"),
}


class StandIn:
    """Serves the stand-in Stripe.js and its frame; the frame's confirmation goes to the sandbox PSP."""

    def __init__(self) -> None:
        self.port = free_port()
        self.psp_url = ""
        self.confirmed: list[str] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path not in FILES:
                    self.send_error(404)
                    return
                name, kind = FILES[self.path]
                body = (STAND_IN / name).read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                if self.path != "/confirm":
                    self.send_error(404)
                    return
                asked = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                card = {"number": asked["number"], "exp_month": "12", "exp_year": "2034", "cvc": "123"}
                reply = httpx.post(
                    f"{stand_in.psp_url}/setup/{asked['setupId']}/confirm",
                    json={"client_secret": asked["clientSecret"], "type": "card", "card": card},
                    timeout=10,
                )
                stand_in.confirmed.append(asked["setupId"])
                self.send_response(reply.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply.content)))
                self.end_headers()
                self.wfile.write(reply.content)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def js_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v3/"


@pytest.fixture(scope="module")
def stand_in() -> Iterator[StandIn]:
    server = StandIn()
    server.thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


@pytest.fixture(scope="module")
def stripe_stack(tmp_path_factory: pytest.TempPathFactory, stand_in: StandIn) -> Iterator[Stack]:
    env_of = {
        "gateway": {"PSP": "stripe", "PSP_PUBLISHABLE_KEY": PUBLISHABLE_KEY, "STRIPE_JS_URL": stand_in.js_url},
        "credit": {"PSP_SANDBOX_CARD_FIELD": "element"},
    }
    stack = Stack(
        data_dir=tmp_path_factory.mktemp("stripe-stack"), ports=free_ports(), demo_merchant=True, env_of=env_of
    )
    with running(stack):
        stand_in.psp_url = stack.url("psp")
        yield stack


@pytest.fixture
def shopper(chromium: Any, stripe_stack: Stack, request: pytest.FixtureRequest) -> Iterator[Shopper]:
    context = chromium.new_context(viewport=DESKTOP, locale="en-GB", timezone_id="Europe/Madrid")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    refused: list[str] = []
    page.on(
        "console",
        lambda m: (
            refused.append(m.text) if re.search(r"Policy directive: \"(script|frame|connect)-src", m.text) else None
        ),
    )
    folder = SCREENSHOTS / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    yield Shopper(page=page, stack=stripe_stack, shots=folder)
    assert not errors, errors
    assert not refused, refused  # the CSP let the stand-in's script and frame in
    context.close()


def test_the_page_mounts_the_payment_element_confirms_the_setup_and_completes(
    shopper: Shopper, stand_in: StandIn
) -> None:
    page = shopper.page
    profile = good_profile()
    shopper.open_shop_and_pay_later()
    csp = page.evaluate("async () => (await fetch(location.href)).headers.get('content-security-policy')")
    assert f"script-src 'self' http://127.0.0.1:{stand_in.port}" in csp
    shopper.sign_up()
    shopper.fill_profile(profile)
    shopper.verify_phone(profile["phoneNumber"])
    shopper.choose_plan("Pay in 4")
    shopper.heading("You're approved")

    page.get_by_role("button", name="Add a card").click()
    frame = page.frame_locator("[data-testid=payment-element] iframe")
    frame.locator("#number").wait_for()
    calls = page.evaluate("() => window.__stripeStandIn")
    assert calls["publishableKey"] == PUBLISHABLE_KEY and calls["kind"] == "payment" and calls["mounted"]
    assert re.fullmatch(r"seti_\w+_secret_\w+", calls["clientSecret"]), calls
    assert page.url.startswith(shopper.base)  # no page of the PSP: the card is typed in the frame
    shopper.shot("payment-element")

    frame.locator("#number").fill("4242424242424242")
    page.get_by_role("button", name="Save card").click()
    # confirmSetup sent the browser back with ?setup_intent=...; the page completed the setup
    shopper.heading("You're approved")
    expect(page.get_by_test_id("card-on-file")).to_have_text("Visa •••• 4242 · expires 12/2034")
    assert "setup_intent" not in page.url  # the client secret does not stay in the address bar
    assert stand_in.confirmed == [calls["clientSecret"].split("_secret_")[0]]
    shopper.shot("card-saved")

    page.get_by_label(re.compile("^I have read the .* and accept it")).check()
    page.get_by_role("button", name="Confirm plan").click()
    shopper.heading("Your plan is confirmed")
