"""Browser tests: Playwright for Python driving Debian's Chromium (no browser download)
against the real local stack, started here on free ports.

Each test saves a screenshot of every step under ``test-artifacts/screenshots/<test>/``.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import pytest
from bnpl_user.testing import last_code

from scripts.devstack import ROOT, Stack
from tests.conftest import free_ports, running

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PASSWORD = "Passw0rd!web"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 15_000


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives Chromium with Playwright against the local stack")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def web_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole platform for the browser tests, on free ports with its own data."""
    data_dir = tmp_path_factory.mktemp("web-stack-data")
    # the credit service's clock offset (seconds), a test control: 0 unless a test moves it
    (data_dir / "clock-offset").write_text("0")
    # the scheduler collects due installments once an hour here: tests that move the clock decide what is paid
    env = {"CLOCK_OFFSET_FILE": str(data_dir / "clock-offset"), "COLLECTION_INTERVAL_SECONDS": "3600"}
    stack = Stack(data_dir=data_dir, ports=free_ports(), demo_merchant=True, extra_env=env)
    with running(stack):
        yield stack


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium); .ci/run does")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # launch() gives every run a fresh, temporary user-data-dir.
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Shopper:
    """One shopper's browser tab, with the helpers to walk the checkout and record each step."""

    page: Any
    stack: Stack
    shots: Path
    email: str = field(default_factory=lambda: f"web-{uuid.uuid4().hex[:10]}@example.com")
    password: str = PASSWORD
    base_url: str = ""  # another gateway than the stack's own
    _step: int = 0

    @property
    def base(self) -> str:
        return self.base_url or self.stack.url("gateway")

    def shot(self, name: str) -> None:
        self._step += 1
        self.shots.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(self.shots / f"{self._step:02d}-{name}.png"), full_page=True)

    def heading(self, text: str | re.Pattern[str]) -> None:
        self.page.get_by_role("heading", level=1, name=text).wait_for()

    @property
    def shop(self) -> str:
        return self.stack.url("demo_merchant")

    def open_shop_and_pay_later(self, path: str = "/") -> None:
        """At the demo merchant, "Pay later": its server creates the checkout session and sends
        the browser to the checkout page with the session's token."""
        self.page.goto(f"{self.shop}{path}")
        self.shot("shop")
        self.page.get_by_role("button", name=re.compile("^Pay later")).click()
        self.heading("Sign in to pay later")
        assert re.fullmatch(rf"{re.escape(self.base)}/checkout/\?token=[A-Za-z0-9_-]+", self.page.url), self.page.url

    def open_checkout(self, checkout_token: str) -> None:
        """The checkout page of this shopper's gateway for a session a merchant created."""
        self.page.goto(f"{self.base}/checkout/?token={checkout_token}")
        self.heading("Sign in to pay later")

    def order_reference(self) -> str:
        return str(self.page.locator(".order .ref").inner_text())

    def sign_up(self) -> None:
        if not self.page.get_by_role("heading", name="Create your pay-later account").is_visible():
            self.page.get_by_role("button", name="Create an account").click()
        self.heading("Create your pay-later account")
        self.page.get_by_label("E-mail").fill(self.email)
        self.page.get_by_label("Password", exact=True).fill(self.password)
        self.shot("sign-up")
        self.page.get_by_role("button", name="Create account").click()
        self.heading("Confirm your e-mail")
        self.shot("confirm-email")
        # The local Cognito (moto) sends no e-mail and accepts any code: the page says so.
        self.page.get_by_label("Confirmation code").fill("123456")
        self.page.get_by_role("button", name="Confirm e-mail").click()

    def sign_in(self) -> None:
        self.page.get_by_label("E-mail").fill(self.email)
        self.page.get_by_label("Password", exact=True).fill(self.password)
        self.page.get_by_role("button", name="Sign in", exact=True).click()

    def fill_profile(self, profile: dict[str, Any]) -> None:
        self.heading("Tell us about you")
        page = self.page
        page.get_by_label("First name").fill(profile["givenName"])
        page.get_by_label("Last name").fill(profile["familyName"])
        page.get_by_label("Date of birth").fill(profile["dateOfBirth"])
        page.get_by_label("Mobile number").fill(profile["phoneNumber"])
        page.get_by_label("Street address").fill(profile["address"]["line1"])
        page.get_by_label("Town or city").fill(profile["address"]["city"])
        page.get_by_label("Postcode").fill(profile["address"]["postalCode"])
        page.get_by_label("Country").select_option(profile["address"]["country"])
        page.get_by_label(re.compile("^Monthly income")).fill(_major(profile["monthlyIncome"]))
        page.get_by_label(re.compile("^Monthly expenses")).fill(_major(profile["monthlyExpenses"]))
        page.get_by_label(re.compile("^Savings")).fill(_major(profile["assets"]))
        page.get_by_label(re.compile("^Debts")).fill(_major(profile["debt"]))
        page.get_by_label("Housing").select_option(profile["housing"])
        page.get_by_label("Work", exact=True).select_option(profile["employment"])
        page.get_by_label("Years in this work").fill(str(profile["employmentYears"]))
        self.shot("profile")
        page.get_by_role("button", name="Continue").click()

    def phone_code(self, phone: str) -> str:
        """The newest code texted to ``phone``, from the local SMS outbox (as the page tells people)."""
        outbox = self.stack.data_dir / "sms-outbox.jsonl"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                return last_code(outbox, to=phone)
            except LookupError:
                time.sleep(0.1)
        raise AssertionError(f"no SMS to {phone}")

    def verify_phone(self, phone: str) -> None:
        self.heading("Verify your phone")
        self.shot("verify-phone")
        self.page.get_by_label("6-digit code").fill(self.phone_code(phone))
        self.page.get_by_role("button", name="Verify phone").click()

    def choose_plan(self, plan_name: str) -> None:
        self.heading("Choose your plan")
        self.shot("plans")
        self.page.get_by_role("radio", name=re.compile(plan_name)).check()
        self.page.get_by_role("button", name="Continue").click()

    def add_card(self, number: str = "4242 4242 4242 4242", back_to: str = "You're approved") -> None:
        """ "Add a card": the sandbox PSP's own page (another origin) takes the card and sends
        the shopper back, where the card is shown (brand and last four digits only)."""
        page = self.page
        page.get_by_role("button", name=re.compile("^(Add a card|Replace card)$")).click()
        page.wait_for_url(re.compile(rf"^{re.escape(self.stack.url('psp'))}/setup/"))
        page.locator("#number").fill(number)
        page.locator("#expiry").fill("12/34")
        page.locator("#cvc").fill("123")
        self.shot("psp-card-page")
        page.locator("#card-form button").click()
        page.wait_for_url(re.compile(rf"^{re.escape(self.base)}/checkout/"))
        self.heading(back_to)
        page.get_by_test_id("card-on-file").filter(has_text=number.replace(" ", "")[-4:]).wait_for()

    def storage(self) -> dict[str, str]:
        return dict(self.page.evaluate("() => Object.fromEntries(Object.entries(sessionStorage))"))


def _major(money: dict[str, Any]) -> str:
    units, cents = divmod(money["amount"], 100)
    return f"{units}.{cents:02d}" if cents else str(units)


@pytest.fixture
def shopper_factory(chromium: Any, web_stack: Stack, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Open a fresh browser context (own sessionStorage) for a shopper; closed after the test."""
    contexts: list[Any] = []

    def make(viewport: dict[str, int] = DESKTOP, *, name: str = "", base_url: str = "") -> Shopper:
        context = chromium.new_context(viewport=viewport, locale="en-GB", timezone_id="Europe/Madrid")
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.js_errors = errors  # checked after the test
        folder = SCREENSHOTS / (request.node.name + (f"-{name}" if name else ""))
        shutil.rmtree(folder, ignore_errors=True)  # only this run's steps
        return Shopper(page=page, stack=web_stack, shots=folder, base_url=base_url)

    yield make
    failed = request.node.stash.get(_FAILED, False)
    for context in contexts:
        for page in context.pages:
            if failed:  # what the shopper saw when the test failed
                page.screenshot(path=str(SCREENSHOTS / request.node.name / "failure.png"), full_page=True)
            assert not page.js_errors, page.js_errors
        context.close()


@pytest.fixture
def shopper(shopper_factory: Any) -> Shopper:
    return shopper_factory()


def expired_copy(access_token: str) -> str:
    """The same access token with ``exp`` in the past, signed with the local Cognito's own key.

    moto signs every token with one published development key; re-signing with it gives a
    token the gateway rejects for one reason only: it has expired.
    """
    from moto.utilities.utils import load_resource

    key = jwt.PyJWK(load_resource("cognitoidp/resources/jwks-private.json"))
    header = jwt.get_unverified_header(access_token)
    claims = jwt.decode(access_token, options={"verify_signature": False})
    now = int(time.time())
    claims.update(iat=now - 7200, auth_time=now - 7200, exp=now - 3600)
    return jwt.encode(claims, key.key, algorithm="RS256", headers={"kid": header["kid"]})
