"""The operations console in Chromium: the reviewer signs in, opens the oldest case and
approves it (four eyes needed); the approver signs in and confirms; the shopper's application
then reads APPROVED. The referral is real: the credit service's model is switched off."""

from __future__ import annotations

import json
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from bnpl_common.testing import free_port

from scripts.devstack import Ports, Stack
from tests.browser.conftest import CHROMIUM, DESKTOP, SCREENSHOTS, TIMEOUT_MS
from tests.journey import (
    ACCEPT,
    APPLY,
    CARD_NO_FUNDS,
    CONFIRM_VERIFICATION,
    CREATE_PROFILE,
    START_VERIFICATION,
    add_card,
    good_profile,
    merchants,
    merchants_of,
    order,
    ship,
)
from tests.ops_support import ModelSwitch, through_switch

pytestmark = pytest.mark.browser

PASSWORD = "Passw0rd!ops"
FOUR_EYES = 10_000


@pytest.fixture(scope="module")
def clock_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ops-web-clock") / "offset-seconds"
    path.write_text("0")
    return path


@pytest.fixture(scope="module")
def ops_stack(tmp_path_factory: pytest.TempPathFactory, clock_file: Path) -> Iterator[Stack]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing")
    switch = ModelSwitch()  # stays down: every decision is REFERRED
    data_dir = tmp_path_factory.mktemp("ops-web-stack")
    ports = Ports(gateway=free_port(), user=free_port(), credit=free_port(), model=free_port(), cognito=free_port())
    stack = Stack(
        data_dir=data_dir,
        ports=ports,
        extra_env={
            "REVIEW_FOUR_EYES_AMOUNT": str(FOUR_EYES),
            "HTTP_CONNECT_TIMEOUT": "5.0",
            "CLOCK_OFFSET_FILE": str(clock_file),
            "SWEEP_INTERVAL_SECONDS": "0.5",
            "COLLECTION_INTERVAL_SECONDS": "3600",  # tests that move the clock decide what is paid
        },
    )
    stack.build = through_switch(stack.build, stack, switch)  # type: ignore[method-assign]
    stack.start()
    try:
        with merchants_of(stack.url("credit"), stack.data_dir):  # journey.order() sells here
            yield stack
    finally:
        stack.stop()
        switch.server.shutdown()


def gql(stack: Stack, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    body = httpx.post(
        f"{stack.url('gateway')}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": token},
        timeout=30,
    ).json()
    assert not body.get("errors"), body
    return body["data"]


def referred_application(stack: Stack) -> tuple[str, str]:
    """A shopper with a verified phone whose application was REFERRED: (token, application id)."""
    assert stack.cognito is not None
    email = f"ops-web-{uuid.uuid4().hex[:8]}@example.com"
    stack.cognito.sign_up(email, PASSWORD)
    token = stack.cognito.access_token(email, PASSWORD)
    profile = good_profile()
    gql(stack, token, CREATE_PROFILE, {"input": {**profile, "email": email}})
    gql(stack, token, START_VERIFICATION, {})
    outbox = [json.loads(line) for line in (stack.data_dir / "sms-outbox.jsonl").read_text().splitlines()]
    code = re.search(r"\b(\d{6})\b", [m for m in outbox if m["to"] == profile["phoneNumber"]][-1]["body"])
    assert code is not None
    gql(stack, token, CONFIRM_VERIFICATION, {"code": code.group(1)})
    app = gql(stack, token, APPLY, {"input": order(amount=20_000), "key": uuid.uuid4().hex})["applyForCredit"]
    assert app["status"] == "REFERRED"
    return token, app["id"]


class Staff:
    def __init__(self, browser: Any, stack: Stack, role: str, shots: Path) -> None:
        self.context = browser.new_context(viewport=DESKTOP, locale="en-GB", timezone_id="Europe/Madrid")
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.stack = stack
        self.creds = json.loads((stack.data_dir / "local-staff.json").read_text())[role]
        self.shots = shots
        self.role = role
        self.step = 0

    def shot(self, name: str) -> None:
        self.step += 1
        self.shots.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(self.shots / f"{self.role}-{self.step:02d}-{name}.png"), full_page=True)

    def sign_in(self) -> None:
        self.page.goto(f"{self.stack.url('gateway')}/ops/")
        self.page.get_by_role("heading", name="Staff sign-in").wait_for()
        self.page.get_by_label("E-mail").fill(self.creds["email"])
        self.page.get_by_label("Password").fill(self.creds["password"])
        self.shot("sign-in")
        self.page.get_by_role("button", name="Sign in").click()
        self.page.get_by_role("heading", name="Review queue").wait_for()


@pytest.fixture
def staff_factory(request: pytest.FixtureRequest, ops_stack: Stack, chromium: Any) -> Iterator[Any]:
    """Staff browser contexts in the session's Chromium (conftest's ``chromium``)."""
    shots = SCREENSHOTS / request.node.name
    shutil.rmtree(shots, ignore_errors=True)
    made: list[Staff] = []

    def make(role: str) -> Staff:
        member = Staff(chromium, ops_stack, role, shots)
        made.append(member)
        return member

    yield make
    for member in made:
        assert not member.errors, member.errors
        member.context.close()


def test_reviewer_approves_the_oldest_case_and_an_approver_confirms(ops_stack: Stack, staff_factory: Any) -> None:
    shopper_token, application_id = referred_application(ops_stack)

    reviewer = staff_factory("reviewer")
    reviewer.sign_in()
    page = reviewer.page
    page.get_by_role("table").wait_for()
    reviewer.shot("queue")
    page.get_by_role("link", name=re.compile("^Open case")).first.click()  # oldest first
    page.get_by_role("heading", name=re.compile("^Review case: ")).wait_for()
    assert page.get_by_text("What the decision saw").is_visible()
    assert page.get_by_text("SCORER_UNAVAILABLE").first.is_visible()
    reviewer.shot("case")
    page.get_by_label("Decision").select_option("APPROVE")
    page.get_by_label("Note (kept in the audit log)").fill("Income and expenses are consistent.")
    page.get_by_role("button", name="Record decision").click()
    page.get_by_text("Case is now Awaiting second approval.").wait_for()
    page.get_by_role("heading", name="Second approval needed").wait_for()
    assert page.get_by_role("button", name="Confirm approval").count() == 0  # a reviewer cannot confirm
    reviewer.shot("awaiting-second-approval")

    approver = staff_factory("approver")
    approver.sign_in()
    page = approver.page
    page.get_by_text(re.compile(r"case\(s\), oldest first")).wait_for()
    page.get_by_label("Status").select_option("AWAITING_SECOND_APPROVAL")
    page.get_by_role("link", name=re.compile("^Open case")).first.click()
    page.get_by_role("heading", name="Second approval needed").wait_for()
    approver.shot("case-to-confirm")
    page.get_by_role("button", name="Confirm approval").click()
    page.get_by_text("Case is now Approved.").wait_for()
    page.get_by_role("heading", name="Outcome").wait_for()
    approver.shot("approved")
    page.get_by_role("link", name="Dashboard").click()
    page.get_by_role("heading", name="Dashboard").wait_for()
    page.get_by_role("img", name="Cases by status").wait_for()
    page.get_by_role("img", name="Decisions today by outcome").wait_for()
    page.get_by_role("img", name="Waiting cases by age").wait_for()
    assert page.get_by_text("Referral rate today").is_visible()
    approver.shot("dashboard")

    seen = gql(
        ops_stack,
        shopper_token,
        "query A($id: ID!) { application(id: $id) { status applicationStatus reviewStatus { status } } }",
        {"id": application_id},
    )["application"]
    assert seen == {"status": "APPROVED", "applicationStatus": "APPROVED", "reviewStatus": {"status": "APPROVED"}}


class _Shopper:
    """A shopper's token as ``journey.add_card`` talks to the gateway."""

    def __init__(self, stack: Stack, token: str) -> None:
        self.stack, self.token, self.gateway = stack, token, stack.url("gateway")

    def ok(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return gql(self.stack, self.token, query, variables or {})


def approved_plan(stack: Stack) -> tuple[str, dict[str, Any]]:
    """A referred shopper approved by staff (through the API), its plan confirmed, shipped and
    partly refunded: (the shopper's e-mail, the plan)."""
    assert stack.cognito is not None
    shopper_token, application_id = referred_application(stack)
    email = next(m["email"] for m in [gql(stack, shopper_token, "query { me { email } }", {})["me"]] if m.get("email"))
    creds = json.loads((stack.data_dir / "local-staff.json").read_text())
    tokens = {role: stack.cognito.access_token(c["email"], c["password"]) for role, c in creds.items()}
    case = next(
        c
        for c in gql(stack, tokens["reviewer"], "query { reviewQueue(limit: 100) { items { id applicationId } } }", {})[
            "reviewQueue"
        ]["items"]
        if c["applicationId"] == application_id
    )
    decide = (
        "mutation D($id: ID!, $key: String!) {"
        " decideReview(caseId: $id, input: {decision: APPROVE}, idempotencyKey: $key) { status } }"
    )
    gql(stack, tokens["reviewer"], decide, {"id": case["id"], "key": uuid.uuid4().hex})
    approve = "mutation A($id: ID!, $key: String!) { approveReview(caseId: $id, idempotencyKey: $key) { status } }"
    gql(stack, tokens["approver"], approve, {"id": case["id"], "key": uuid.uuid4().hex})
    confirm = (
        "mutation C($id: ID!, $key: String!, $hash: String) {"
        " confirmPlan(applicationId: $id, idempotencyKey: $key, acceptedDocumentHash: $hash) { id orderReference } }"
    )
    add_card(_Shopper(stack, shopper_token))  # a plan needs a card on file
    document = gql(stack, shopper_token, ACCEPT, {"id": application_id})["precontractInformation"]
    variables = {"id": application_id, "key": uuid.uuid4().hex, "hash": document["contentHash"]}
    plan = gql(stack, shopper_token, confirm, variables)["confirmPlan"]
    checkout_id = gql(
        stack, shopper_token, "query A($id: ID!) { application(id: $id) { checkoutId } }", {"id": application_id}
    )["application"]["checkoutId"]
    ship(checkout_id)
    refund = (
        merchants()
        .client("demo-shop")
        .refund(checkout_id, 2_000, "EUR", reason="one cup returned", key=uuid.uuid4().hex)
    )
    assert refund.status_code == 201, refund.text
    # the card on file now declines every charge: the scheduler cannot collect this plan, so its
    # installments stay due, then go late, whenever a test moves the clock
    add_card(_Shopper(stack, shopper_token), CARD_NO_FUNDS)
    return email, plan


def test_a_reviewer_finds_a_customer_opens_the_profile_for_a_reason_and_a_plans_payments(
    ops_stack: Stack, staff_factory: Any
) -> None:
    email, plan = approved_plan(ops_stack)
    reviewer = staff_factory("reviewer")
    reviewer.sign_in()
    page = reviewer.page
    page.get_by_role("link", name="Customers").click()
    page.get_by_role("heading", name="Customers").wait_for()
    page.get_by_label("Find by").select_option("email")
    page.get_by_label("Value").fill(email)
    page.get_by_role("button", name="Find").click()
    page.get_by_role("link", name=re.compile("^Open customer")).wait_for()
    assert page.get_by_text(email).count() == 0  # masked
    reviewer.shot("lookup")
    page.get_by_role("link", name=re.compile("^Open customer")).click()
    page.get_by_role("heading", name="Plans").wait_for()
    reviewer.shot("customer")
    page.get_by_label("Why do you need it? (recorded with your name)").fill("The shopper called about a refund.")
    page.get_by_role("button", name="Open full profile").click()
    page.get_by_role("heading", name="Profile", exact=True).wait_for()
    assert page.get_by_text(email).is_visible()
    reviewer.shot("profile")
    page.get_by_role("link", name=f"Open plan {plan['orderReference']}").click()
    page.get_by_role("heading", name="Payments").wait_for()
    assert page.get_by_text("one cup returned").is_visible()
    assert page.get_by_role("cell", name="Confirmation").is_visible()
    reviewer.shot("plan")


def test_an_approver_waives_a_late_fee_in_a_plans_page(ops_stack: Stack, staff_factory: Any, clock_file: Path) -> None:
    _, plan = approved_plan(ops_stack)
    approver = staff_factory("approver")
    approver.sign_in()
    page = approver.page
    try:
        clock_file.write_text(str(25 * 86_400))  # installment 2 is late (day 14 + 7 days' grace)
        page.evaluate(f"location.hash = '#/plan/{plan['id']}'")
        page.get_by_role("heading", name="Payments").wait_for()
        for _ in range(20):  # the credit service reads the clock file at its next request
            if page.get_by_role("heading", name="Waive a late fee").count():
                break
            page.wait_for_timeout(500)
            page.evaluate("location.hash = '#/queue'")
            page.get_by_role("heading", name="Review queue").wait_for()
            page.evaluate(f"location.hash = '#/plan/{plan['id']}'")
            page.get_by_role("heading", name="Payments").wait_for()
        page.get_by_role("heading", name="Waive a late fee").wait_for()
        approver.shot("late-fee")
        page.get_by_label("Installment").select_option("2")
        page.get_by_label("Reason (kept in the audit log)").fill("The shopper was in hospital.")
        page.get_by_role("button", name="Waive late fee").click()
        page.get_by_text(re.compile(r"^Waived .* on installment 2\.$")).wait_for()
        page.get_by_role("heading", name="Payments").wait_for()
        assert page.get_by_role("heading", name="Waive a late fee").count() == 0  # no fee left to waive
        approver.shot("waived")
    finally:
        clock_file.write_text("0")


def test_an_approver_creates_a_merchant_sees_its_secrets_once_and_suspends_it(
    ops_stack: Stack, staff_factory: Any
) -> None:
    merchant_id = f"corner-{uuid.uuid4().hex[:6]}"
    approver = staff_factory("approver")
    approver.sign_in()
    page = approver.page
    page.get_by_role("link", name="Merchants").click()
    page.get_by_role("heading", name="Merchants").wait_for()
    page.get_by_label("Merchant id (a-z, 0-9, -)").fill(merchant_id)
    page.get_by_label("Display name").fill("Corner Shop")
    page.get_by_label("Market").select_option("EU:EUR")
    page.get_by_label("Shop origin (https://shop.example)").fill("https://corner.example")
    page.get_by_role("button", name="Create merchant").click()
    page.get_by_role("heading", name="Corner Shop is created").wait_for()
    secret = page.locator(".secrets code").nth(1).inner_text()
    assert len(secret) > 20
    approver.shot("merchant-created")

    page.once("dialog", lambda dialog: dialog.accept("Chargebacks under investigation"))
    page.get_by_role("button", name="Suspend Corner Shop").click()
    page.get_by_text("Corner Shop is now suspended.").wait_for()
    page.get_by_role("button", name="Activate Corner Shop").wait_for()
    assert page.get_by_text(secret).count() == 0  # shown once
    approver.shot("merchant-suspended")

    reviewer = staff_factory("reviewer")
    reviewer.sign_in()
    assert reviewer.page.get_by_role("link", name="Merchants").count() == 0  # approvers only


def test_an_approver_changes_a_merchants_origins_and_webhook_url(ops_stack: Stack, staff_factory: Any) -> None:
    merchant_id = f"lamp-{uuid.uuid4().hex[:6]}"
    approver = staff_factory("approver")
    approver.sign_in()
    page = approver.page
    page.get_by_role("link", name="Merchants").click()
    page.get_by_role("heading", name="Merchants").wait_for()
    page.get_by_label("Merchant id (a-z, 0-9, -)").fill(merchant_id)
    page.get_by_label("Display name").fill("Lamp Shop")
    page.get_by_label("Shop origin (https://shop.example)").fill("https://lamps.example")
    page.get_by_role("button", name="Create merchant").click()
    page.get_by_role("heading", name="Lamp Shop is created").wait_for()

    page.get_by_role("button", name="Edit Lamp Shop").click()
    page.get_by_role("heading", name="Edit Lamp Shop").wait_for()
    page.get_by_label("Webhook URL (empty: no webhooks)").fill("http://lamps.example/hooks")  # not https
    page.get_by_role("button", name="Save changes").click()
    page.get_by_text(re.compile("webhookUrl must use https")).wait_for()
    approver.shot("webhook-refused")
    page.get_by_label("Origins (one per line, https://shop.example)").fill(
        "https://lamps.example\nhttps://shop.lamps.example"
    )
    page.get_by_label("Webhook URL (empty: no webhooks)").fill("https://lamps.example/hooks")
    page.get_by_role("button", name="Save changes").click()
    page.get_by_text("Lamp Shop is updated.").wait_for()
    row = page.locator(f"tr[data-merchant='{merchant_id}']")
    row.get_by_text("https://lamps.example, https://shop.lamps.example").wait_for()
    assert row.get_by_text("https://lamps.example/hooks").is_visible()
    approver.shot("merchant-updated")

    assert ops_stack.cognito is not None
    token = ops_stack.cognito.access_token(approver.creds["email"], approver.creds["password"])
    trail = gql(
        ops_stack,
        token,
        "query L($s: String!) { auditLog(subject: $s, limit: 20) { items { action details } } }",
        {"s": f"merchant:{merchant_id}"},
    )["auditLog"]["items"]
    changes = {r["action"]: json.loads(r["details"]) for r in trail if r["action"] != "merchant.created"}
    assert changes == {
        "merchant.origins_changed": {
            "previous": ["https://lamps.example"],
            "origins": ["https://lamps.example", "https://shop.lamps.example"],
        },
        "merchant.webhook_url_changed": {"previous": None, "webhookUrl": "https://lamps.example/hooks"},
    }


def test_the_checkout_page_shows_the_review_and_then_its_approval(
    ops_stack: Stack, chromium: Any, request: pytest.FixtureRequest
) -> None:
    """The shopper's own page: a referral says a person is reviewing it, until when; once a
    reviewer approved (through the API here), the same page offers the approved plan."""
    from tests.browser.conftest import Shopper
    from tests.journey import checkout

    context = chromium.new_context(viewport=DESKTOP, locale="en-GB", timezone_id="Europe/Madrid")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    shots = SCREENSHOTS / request.node.name
    shutil.rmtree(shots, ignore_errors=True)
    shopper = Shopper(page=page, stack=ops_stack, shots=shots)
    try:
        session = checkout(8_000)  # under REVIEW_FOUR_EYES_AMOUNT: one reviewer decides
        shopper.open_checkout(session["checkoutToken"])
        shopper.sign_up()
        profile = good_profile()
        shopper.fill_profile(profile)
        shopper.verify_phone(profile["phoneNumber"])
        shopper.choose_plan("Pay in 4")
        shopper.heading("We need a closer look")
        panel = page.get_by_test_id("review-status")
        panel.wait_for()
        assert "A person is reviewing your application" in panel.inner_text()
        assert panel.get_attribute("data-status") == "OPEN"
        shopper.shot("referred-under-review")

        creds = json.loads((ops_stack.data_dir / "local-staff.json").read_text())["reviewer"]
        assert ops_stack.cognito is not None
        token = ops_stack.cognito.access_token(creds["email"], creds["password"])
        cases = gql(ops_stack, token, "query { reviewQueue(limit: 100) { items { id applicationId } } }", {})
        application_id = gql(
            ops_stack,
            ops_stack.cognito.access_token(shopper.email, shopper.password),
            "query C($t: String!) { checkoutSession(token: $t) { applicationId } }",
            {"t": session["checkoutToken"]},
        )["checkoutSession"]["applicationId"]
        case_id = next(c["id"] for c in cases["reviewQueue"]["items"] if c["applicationId"] == application_id)
        decide = (
            "mutation D($id: ID!, $key: String!) {"
            " decideReview(caseId: $id, input: {decision: APPROVE}, idempotencyKey: $key) { status } }"
        )
        assert gql(ops_stack, token, decide, {"id": case_id, "key": uuid.uuid4().hex})["decideReview"]["status"] == (
            "APPROVED"
        )
        page.reload()
        shopper.heading("You're approved")
        shopper.shot("approved-after-review")
        assert not errors, errors
    finally:
        context.close()


def test_a_reviewer_asks_for_information_the_shopper_answers_on_the_page_and_the_reviewer_reads_it(
    ops_stack: Stack, chromium: Any, staff_factory: Any, request: pytest.FixtureRequest
) -> None:
    """The reviewer asks in the console; the shopper's checkout page shows the question with a
    form; the answer puts the case back in the queue, where the reviewer reads it."""
    from tests.browser.conftest import Shopper
    from tests.journey import checkout

    context = chromium.new_context(viewport=DESKTOP, locale="en-GB", timezone_id="Europe/Madrid")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    shots = SCREENSHOTS / request.node.name
    shopper = Shopper(page=page, stack=ops_stack, shots=shots / "shopper")
    try:
        session = checkout(8_000)
        shopper.open_checkout(session["checkoutToken"])
        shopper.sign_up()
        profile = good_profile()
        shopper.fill_profile(profile)
        shopper.verify_phone(profile["phoneNumber"])
        shopper.choose_plan("Pay in 4")
        shopper.heading("We need a closer look")
        page.get_by_test_id("review-status").wait_for()
        assert page.get_by_role("button", name="Send answer").count() == 0  # nothing asked yet
        assert ops_stack.cognito is not None
        application_id = gql(
            ops_stack,
            ops_stack.cognito.access_token(shopper.email, shopper.password),
            "query C($t: String!) { checkoutSession(token: $t) { applicationId } }",
            {"t": session["checkoutToken"]},
        )["checkoutSession"]["applicationId"]

        reviewer = staff_factory("reviewer")
        reviewer.sign_in()
        staff_page = reviewer.page
        reviewer_token = ops_stack.cognito.access_token(reviewer.creds["email"], reviewer.creds["password"])
        case_id = next(
            c["id"]
            for c in gql(
                ops_stack, reviewer_token, "query { reviewQueue(limit: 100) { items { id applicationId } } }", {}
            )["reviewQueue"]["items"]
            if c["applicationId"] == application_id
        )
        staff_page.evaluate(f"location.hash = '#/case/{case_id}'")
        staff_page.get_by_role("heading", name=re.compile("^Review case: ")).wait_for()
        staff_page.get_by_label("Decision").select_option("REQUEST_INFO")
        staff_page.get_by_label("Note (kept in the audit log)").fill("Please tell us your employer's name.")
        staff_page.get_by_role("button", name="Record decision").click()
        staff_page.get_by_text("Case is now Info requested.").wait_for()
        reviewer.shot("info-requested")

        page.reload()
        shopper.heading("We need a closer look")
        panel = page.get_by_test_id("review-status")
        panel.wait_for()
        assert panel.get_attribute("data-status") == "INFO_REQUESTED"
        assert "Please tell us your employer's name." in panel.inner_text()
        page.get_by_role("button", name="Send answer").click()  # empty: refused on the page
        page.get_by_text("Write your answer to the reviewer.").wait_for()
        page.get_by_label("Your answer to the reviewer").fill("I work for Acme Tiles in Valencia.")
        shopper.shot("answering")
        page.get_by_role("button", name="Send answer").click()
        page.get_by_text("Thank you: your answer was sent to the reviewer.").wait_for()
        assert panel.get_attribute("data-status") == "OPEN"
        assert page.get_by_role("button", name="Send answer").count() == 0
        shopper.shot("answered")

        staff_page.evaluate("location.hash = '#/queue'")
        staff_page.get_by_role("heading", name="Review queue").wait_for()
        staff_page.evaluate(f"location.hash = '#/case/{case_id}'")
        staff_page.get_by_role("heading", name=re.compile("^Review case: ")).wait_for()
        staff_page.get_by_text("I work for Acme Tiles in Valencia.").wait_for()
        assert staff_page.get_by_text("Please tell us your employer's name.").is_visible()
        assert staff_page.get_by_role("button", name="Record decision").is_visible()  # OPEN again
        reviewer.shot("answer-seen")

        approver_creds = json.loads((ops_stack.data_dir / "local-staff.json").read_text())["approver"]
        approver_token = ops_stack.cognito.access_token(approver_creds["email"], approver_creds["password"])
        trail = gql(
            ops_stack,
            approver_token,
            "query L($s: String!) { auditLog(subject: $s, limit: 20) { items { action actor caseId } } }",
            {"s": f"case:{case_id}"},
        )["auditLog"]["items"]
        assert {"action": "case.info_answered", "actor": shopper_sub(ops_stack, shopper), "caseId": case_id} in trail
        assert not errors, errors
    finally:
        context.close()


def shopper_sub(stack: Stack, shopper: Any) -> str:
    assert stack.cognito is not None
    token = stack.cognito.access_token(shopper.email, shopper.password)
    return str(jwt.decode(token, options={"verify_signature": False})["sub"])


def test_a_declined_shopper_asks_on_the_page_for_a_person_to_look_again(shopper_factory: Any) -> None:
    """On the platform with its model (``web_stack``): an affordability decline, contested once
    from the page; the case is in the review queue with the shopper's words."""
    from tests.journey import poor_profile

    shopper = shopper_factory()
    page = shopper.page
    shopper.open_shop_and_pay_later()
    shopper.sign_up()
    profile = poor_profile()
    shopper.fill_profile(profile)
    shopper.verify_phone(profile["phoneNumber"])
    shopper.choose_plan("Pay in 4")
    shopper.heading("We can't offer pay later for this order")
    page.get_by_role("heading", name="Ask a person to look again").wait_for()
    page.get_by_role("button", name="Ask for a review").click()  # empty: refused on the page
    page.get_by_text("Tell the reviewer why you are asking.").wait_for()
    page.get_by_label("What should the reviewer know?").fill("My salary went up last month.")
    shopper.shot("contesting")
    page.get_by_role("button", name="Ask for a review").click()
    page.get_by_text("Your request was sent: a person will review your application.").wait_for()
    panel = page.get_by_test_id("review-status")
    assert panel.get_attribute("data-status") == "OPEN"
    assert page.get_by_role("button", name="Ask for a review").count() == 0
    shopper.shot("review-requested")
    page.reload()
    shopper.heading("We can't offer pay later for this order")
    page.get_by_test_id("review-status").wait_for()
    assert page.get_by_role("heading", name="Ask a person to look again").count() == 0  # once

    stack = shopper.stack
    assert stack.cognito is not None
    token = stack.cognito.access_token(shopper.email, shopper.password)
    application_id = gql(stack, token, "query { applications(limit: 1) { items { id status } } }", {})["applications"][
        "items"
    ][0]["id"]
    creds = json.loads((stack.data_dir / "local-staff.json").read_text())["reviewer"]
    reviewer = stack.cognito.access_token(creds["email"], creds["password"])
    cases = gql(stack, reviewer, "query { reviewQueue(limit: 100) { items { id applicationId origin } } }", {})
    case = next(c for c in cases["reviewQueue"]["items"] if c["applicationId"] == application_id)
    assert case["origin"] == "CONTESTED"
    seen = gql(stack, reviewer, "query C($id: ID!) { reviewCase(id: $id) { statement } }", {"id": case["id"]})
    assert seen["reviewCase"]["statement"] == "My salary went up last month."
