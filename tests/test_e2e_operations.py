"""Operations over the real processes: review cases opened by referrals and by contested
declines, decided by staff through GraphQL (four eyes where needed), expired when nobody
decides, each step in the audit log; and the role separation, both ways, for every root
field of the schema.

This module's credit service reaches the real model through a switch (:class:`ModelSwitch`):
switched off, every decision is REFERRED (a failing scorer never approves); switched on, the
real model declines a poor profile. Both outcomes are deterministic.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bnpl_common.testing import free_port
from bnpl_gateway.roles import MERCHANT_FIELDS
from bnpl_gateway.schema import create_schema
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    build_schema,
    get_named_type,
)

from scripts.devstack import Ports, Stack
from tests.conftest import PASSWORD, Shopper
from tests.journey import (
    APPLICATION_FIELDS,
    APPLY,
    CARD_NO_FUNDS,
    accepted,
    add_card,
    good_profile,
    merchants,
    merchants_of,
    order,
    poor_profile,
    ship,
)
from tests.ops_support import ModelSwitch, through_switch
from tests.test_e2e_journey import verified

pytestmark = pytest.mark.e2e

TTL_SECONDS = 3600
FOUR_EYES = 30_000


@pytest.fixture(scope="module")
def clock_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ops-clock") / "offset-seconds"
    path.write_text("0")
    return path


@pytest.fixture(scope="module")
def model_switch() -> Iterator[ModelSwitch]:
    switch = ModelSwitch()
    yield switch
    switch.server.shutdown()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, clock_file: Path, model_switch: ModelSwitch) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("ops-stack")
    ports = Ports(gateway=free_port(), user=free_port(), credit=free_port(), model=free_port(), cognito=free_port())
    env = {
        "SCORER_TIMEOUT_SECONDS": "1.5",
        "CLOCK_OFFSET_FILE": str(clock_file),
        "SWEEP_INTERVAL_SECONDS": "0.5",
        "REVIEW_CASE_TTL_SECONDS": str(TTL_SECONDS),
        "REVIEW_FOUR_EYES_AMOUNT": str(FOUR_EYES),
        "HTTP_CONNECT_TIMEOUT": "5.0",  # a shared, busy machine
        "COLLECTION_INTERVAL_SECONDS": "3600",  # tests that move the clock decide what is paid
    }
    stack = Stack(data_dir=data_dir, ports=ports, extra_env=env)
    stack.build = through_switch(stack.build, stack, model_switch)  # type: ignore[method-assign]
    stack.start()
    try:
        with merchants_of(stack.url("credit"), stack.data_dir):  # journey.order() sells here
            yield stack
    finally:
        stack.stop()


@pytest.fixture
def new_shopper(stack: Stack):
    def make() -> Shopper:
        assert stack.cognito is not None
        email = f"shopper-{uuid.uuid4().hex[:10]}@example.com"
        sub = stack.cognito.sign_up(email, PASSWORD)
        shopper = Shopper(
            email=email, sub=sub, token=stack.cognito.access_token(email, PASSWORD), gateway=stack.url("gateway")
        )
        add_card(shopper)  # confirming needs a card on file
        return shopper

    return make


def staff(stack: Stack, role: str) -> Shopper:
    """The reviewer or approver that the stack seeded (``.data/local-staff.json``)."""
    assert stack.cognito is not None
    creds = json.loads((stack.data_dir / "local-staff.json").read_text())[role]
    token = stack.cognito.access_token(creds["email"], creds["password"])
    return Shopper(email=creds["email"], sub="", token=token, gateway=stack.url("gateway"))


def extra_approver(stack: Stack) -> Shopper:
    assert stack.cognito is not None
    email = f"approver-{uuid.uuid4().hex[:8]}@ops.bnpl.invalid"
    stack.cognito.add_staff(email, PASSWORD, "operations-risk")
    return Shopper(email=email, sub="", token=stack.cognito.access_token(email, PASSWORD), gateway=stack.url("gateway"))


def apply(shopper: Shopper, **kw: Any) -> dict[str, Any]:
    """The one place new tests build an application (the lead switches the input here)."""
    return shopper.ok(APPLY, {"input": order(**kw), "key": uuid.uuid4().hex})["applyForCredit"]


APP_WITH_REVIEW = (
    "query One($id: ID!) { application(id: $id) {"
    + APPLICATION_FIELDS
    + " applicationStatus reviewStatus { caseId status openedAt expiresAt infoRequest closedAt } } }"
)
QUEUE = """query Q($status: ReviewCaseStatus, $next: String) {
  reviewQueue(status: $status, limit: 100, nextToken: $next) {
  items { id applicationId status openedAt ageSeconds originalDecision amount { amount currency } } nextToken } }"""
CASE = """query C($id: ID!) { reviewCase(id: $id) { id applicationId customerId origin status statement needsFourEyes
  amount { amount currency } planType merchantId applicationStatus
  proposal { decision reviewer amount { amount } }
  decision { status features { name value } featureMappingVersion score pd scorerFailure reasons { code }
             policyRulesFired modelVersion policyVersion history { lateInstallments heldApprovals creditLimit } }
  outcome { id status deciders originalDecision amount { amount currency } reasons } } }"""
DECIDE = """mutation D($id: ID!, $input: ReviewDecisionInput!, $key: String!) {
  decideReview(caseId: $id, input: $input, idempotencyKey: $key) { id status needsFourEyes proposal { reviewer } } }"""
APPROVE = """mutation A($id: ID!, $key: String!) {
  approveReview(caseId: $id, idempotencyKey: $key) { id status secondApprover } }"""
REQUEST = (
    """mutation R($id: ID!, $s: String!) { requestHumanReview(applicationId: $id, statement: $s) { caseId status } }"""
)
AUDIT = """query L($s: String!) { auditLog(subject: $s, limit: 50) {
  items { id at actor actorGroups action subjects caseId reason details } nextToken } }"""
CONFIRM = (
    "mutation C($id: ID!, $key: String!, $hash: String) {"
    " confirmPlan(applicationId: $id, idempotencyKey: $key, acceptedDocumentHash: $hash) { id status } }"
)


def the_case(reviewer: Shopper, application_id: str, status: str = "OPEN") -> dict[str, Any]:
    items = reviewer.ok(QUEUE, {"status": status})["reviewQueue"]["items"]
    found = [c for c in items if c["applicationId"] == application_id]
    assert len(found) == 1, items
    return found[0]


def sms_to(stack: Stack, phone: str) -> list[str]:
    path = stack.data_dir / "sms-outbox.jsonl"
    return [m["body"] for m in map(json.loads, path.read_text().splitlines()) if m["to"] == phone]


def audit_actions(approver: Shopper, case_id: str) -> list[str]:
    items = approver.ok(AUDIT, {"s": f"case:{case_id}"})["auditLog"]["items"]
    for item in items:
        assert item["caseId"] == case_id and f"case:{case_id}" in item["subjects"]
    return [i["action"] for i in reversed(items)]  # oldest first


def test_a_referral_is_reviewed_and_approved(stack: Stack, new_shopper) -> None:
    shopper = new_shopper()
    profile = good_profile()
    verified(shopper, stack, profile)
    app = apply(shopper, amount=20_000)
    assert app["status"] == "REFERRED"
    seen = shopper.ok(APP_WITH_REVIEW, {"id": app["id"]})["application"]
    assert seen["reviewStatus"]["status"] == "OPEN"

    reviewer, approver = staff(stack, "reviewer"), staff(stack, "approver")
    case = the_case(reviewer, app["id"])
    detail = reviewer.ok(CASE, {"id": case["id"]})["reviewCase"]
    assert detail["origin"] == "REFERRAL" and detail["merchantId"] == "demo-shop"
    decision = detail["decision"]
    assert decision["status"] == "REFERRED" and decision["scorerFailure"] and decision["score"] is None
    assert {f["name"] for f in decision["features"]} and decision["policyVersion"] and decision["featureMappingVersion"]
    assert decision["history"]["lateInstallments"] == 0

    out = reviewer.ok(
        DECIDE, {"id": case["id"], "input": {"decision": "APPROVE", "note": "income checked"}, "key": uuid.uuid4().hex}
    )["decideReview"]
    assert out["status"] == "APPROVED" and out["needsFourEyes"] is False

    after = shopper.ok(APP_WITH_REVIEW, {"id": app["id"]})["application"]
    assert after["status"] == "APPROVED" and after["applicationStatus"] == "APPROVED"
    assert after["reviewStatus"]["status"] == "APPROVED"
    assert sum(i["amount"]["amount"] for i in after["offer"]["installments"]) == 20_000
    plan = shopper.ok(CONFIRM, accepted(shopper, app["id"]))["confirmPlan"]
    assert plan["status"] == "AUTHORIZED"  # the referred checkout is authorized; it runs when the shop ships
    assert any("approved" in body for body in sms_to(stack, profile["phoneNumber"]))

    outcome = reviewer.ok(CASE, {"id": case["id"]})["reviewCase"]["outcome"]
    assert (
        outcome["status"] == "APPROVED" and outcome["originalDecision"] == "REFERRED" and len(outcome["deciders"]) == 1
    )
    assert audit_actions(approver, case["id"]) == ["case.viewed", "case.decided", "case.viewed"]
    decided = [
        i for i in approver.ok(AUDIT, {"s": f"case:{case['id']}"})["auditLog"]["items"] if i["action"] == "case.decided"
    ]
    assert decided[0]["reason"] == "income checked" and "operations" in decided[0]["actorGroups"]
    # the same records are filed under the customer
    assert len(approver.ok(AUDIT, {"s": f"customer:{shopper.sub}"})["auditLog"]["items"]) == 3


def test_a_contested_decline_is_reviewed_once_and_upheld(stack: Stack, new_shopper, model_switch) -> None:
    shopper = new_shopper()
    profile = poor_profile()
    verified(shopper, stack, profile)
    model_switch.down = False
    try:
        app = apply(shopper, amount=90_000)  # the real model declines it
    finally:
        model_switch.down = True
    assert app["status"] == "DECLINED", app
    assert shopper.ok(APP_WITH_REVIEW, {"id": app["id"]})["application"]["reviewStatus"] is None

    asked = shopper.ok(REQUEST, {"id": app["id"], "s": "I have a new job since last week"})["requestHumanReview"]
    assert asked["status"] == "OPEN"
    again = shopper.error(REQUEST, {"id": app["id"], "s": "please"})
    assert again["errorType"] == "ReviewAlreadyRequested"

    reviewer, approver = staff(stack, "reviewer"), staff(stack, "approver")
    detail = reviewer.ok(CASE, {"id": asked["caseId"]})["reviewCase"]
    assert detail["origin"] == "CONTESTED" and detail["statement"] == "I have a new job since last week"
    assert detail["decision"]["score"] is not None and detail["decision"]["pd"] > 0
    bad = reviewer.error(
        DECIDE, {"id": asked["caseId"], "input": {"decision": "DECLINE", "reasons": ["NOPE"]}, "key": uuid.uuid4().hex}
    )
    assert bad["errorInfo"]["field"] == "input.reasons"
    out = reviewer.ok(
        DECIDE,
        {
            "id": asked["caseId"],
            "input": {"decision": "DECLINE", "reasons": ["AFFORDABILITY"], "note": "payslip checked"},
            "key": uuid.uuid4().hex,
        },
    )["decideReview"]
    assert out["status"] == "DECLINED"
    after = shopper.ok(APP_WITH_REVIEW, {"id": app["id"]})["application"]
    assert after["status"] == "DECLINED" and after["reviewStatus"]["status"] == "DECLINED"
    assert [r["code"] for r in after["reasons"]] == ["AFFORDABILITY"]
    assert any("cannot offer" in body for body in sms_to(stack, profile["phoneNumber"]))
    assert audit_actions(approver, asked["caseId"]) == ["case.viewed", "case.decided"]


def test_four_eyes_the_same_person_cannot_approve_twice(stack: Stack, new_shopper) -> None:
    shopper = new_shopper()
    verified(shopper, stack, good_profile())
    app = apply(shopper, amount=40_000)  # above REVIEW_FOUR_EYES_AMOUNT
    reviewer, approver, second = staff(stack, "reviewer"), staff(stack, "approver"), extra_approver(stack)
    case = the_case(reviewer, app["id"])

    out = approver.ok(DECIDE, {"id": case["id"], "input": {"decision": "APPROVE"}, "key": uuid.uuid4().hex})[
        "decideReview"
    ]
    assert out["status"] == "AWAITING_SECOND_APPROVAL" and out["needsFourEyes"] is True
    assert shopper.ok(APP_WITH_REVIEW, {"id": app["id"]})["application"]["status"] == "REFERRED"

    same = approver.error(APPROVE, {"id": case["id"], "key": uuid.uuid4().hex})
    assert same["errorType"] == "FourEyesViolation"
    not_approver = reviewer.error(APPROVE, {"id": case["id"], "key": uuid.uuid4().hex})
    assert not_approver["errorType"] == "Unauthorized"

    done = second.ok(APPROVE, {"id": case["id"], "key": uuid.uuid4().hex})["approveReview"]
    assert done["status"] == "APPROVED" and done["secondApprover"]
    assert shopper.ok(APP_WITH_REVIEW, {"id": app["id"]})["application"]["status"] == "APPROVED"
    outcome = reviewer.ok(CASE, {"id": case["id"]})["reviewCase"]["outcome"]
    assert len(set(outcome["deciders"])) == 2
    assert audit_actions(approver, case["id"]) == ["case.decided", "case.second_approval", "case.viewed"]


def merchant_session(checkout_id: str) -> dict[str, Any]:
    """The demo shop's view of one of its checkout sessions (the merchant API)."""
    response = merchants().client("demo-shop").checkout(checkout_id)
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()
    return view


def webhook_types(checkout_id: str, timeout: float = 20.0) -> list[str]:
    """The webhooks the demo shop has been sent for one session, by name, once the relay has
    fanned out a review's outcome (``checkout.referred`` and ``checkout.approved``, ``declined``
    or ``expired``; both may be fanned out in one round, so their creation times can tie)."""
    client = merchants().client("demo-shop")
    deadline = time.monotonic() + timeout
    while True:
        response = client.get("/v1/merchant/webhook-deliveries", limit=100)
        assert response.status_code == 200, response.text
        mine = [d for d in response.json()["items"] if d["checkoutId"] == checkout_id]
        types = sorted(d["eventType"] for d in mine)
        if len(types) >= 2 or time.monotonic() > deadline:
            return types
        time.sleep(0.3)


def held_in_case(reviewer: Shopper, application_id: str) -> int:
    """What the decision of ``application_id`` saw held on the customer's line (approvals and referrals)."""
    case = the_case(reviewer, application_id)
    held: int = reviewer.ok(CASE, {"id": case["id"]})["reviewCase"]["decision"]["history"]["heldApprovals"]
    return held


def test_a_review_outcome_reaches_the_merchant_and_a_referral_holds_credit(stack: Stack, new_shopper) -> None:
    shopper = new_shopper()
    verified(shopper, stack, good_profile())
    reviewer = staff(stack, "reviewer")
    first = apply(shopper, amount=20_000)
    second = apply(shopper, amount=10_000)
    assert first["status"] == second["status"] == "REFERRED"
    assert merchant_session(first["checkoutId"])["status"] == "REFERRED"
    # the first referral holds its amount while its case is open: the second decision saw it
    assert held_in_case(reviewer, second["id"]) == 20_000

    declined = reviewer.ok(
        DECIDE,
        {
            "id": the_case(reviewer, first["id"])["id"],
            "input": {"decision": "DECLINE", "reasons": ["AFFORDABILITY"]},
            "key": uuid.uuid4().hex,
        },
    )["decideReview"]
    assert declined["status"] == "DECLINED"
    assert merchant_session(first["checkoutId"])["status"] == "DECLINED"
    assert webhook_types(first["checkoutId"]) == ["checkout.declined", "checkout.referred"]
    # the decline released the first hold; the second referral still holds
    third = apply(shopper, amount=5_000)
    assert held_in_case(reviewer, third["id"]) == 10_000

    approved = reviewer.ok(
        DECIDE,
        {"id": the_case(reviewer, second["id"])["id"], "input": {"decision": "APPROVE"}, "key": uuid.uuid4().hex},
    )["decideReview"]
    assert approved["status"] == "APPROVED"
    session = merchant_session(second["checkoutId"])
    assert session["status"] == "APPROVED"
    assert webhook_types(second["checkoutId"]) == ["checkout.approved", "checkout.referred"]
    plan = shopper.ok(CONFIRM, accepted(shopper, second["id"]))["confirmPlan"]
    assert plan["status"] == "AUTHORIZED"
    assert merchant_session(second["checkoutId"])["status"] == "AUTHORIZED"


LOOKUP = """query L($email: String, $phone: String, $app: ID, $plan: ID) {
  customerLookup(email: $email, phone: $phone, applicationId: $app, planId: $plan) {
  customerId email phoneNumber givenName familyInitial phoneVerified createdAt } }"""
PROFILE = """query P($id: ID!, $reason: String!, $case: ID) {
  customerProfile(customerId: $id, reason: $reason, caseId: $case) {
  id email givenName familyName dateOfBirth phoneNumber address { line1 city } monthlyIncome { amount } } }"""
OVERVIEW = """query O($id: ID!) { customerOverview(customerId: $id) { customerId
  applications { id status decision amount { amount currency } merchantId planId }
  plans { id status principal { amount } amountOutstanding { amount } } } }"""
STAFF_PLAN = """query S($id: ID!) { staffPlan(planId: $id) { customerId
  plan { id status principal { amount currency } amountPaid { amount } amountOutstanding { amount }
         installments { sequence dueDate amount { amount } status } }
  payments { id amount { amount currency } source createdAt allocations { sequence amount { amount } } }
  refunds { id amount { amount currency } reason full createdAt } } }"""
PROFILE_AUDIT = """query A($id: ID!, $limit: Int, $next: String) {
  profileAudit(customerId: $id, limit: $limit, nextToken: $next) {
  items { id at actor actorGroups action customerIds reason caseId details } nextToken } }"""


def test_staff_find_a_customer_see_their_plans_and_open_the_profile_for_a_reason(stack: Stack, new_shopper) -> None:
    shopper = new_shopper()
    profile = good_profile()
    verified(shopper, stack, profile)
    app = apply(shopper, amount=20_000)  # REFERRED: the model is switched off
    reviewer, approver = staff(stack, "reviewer"), staff(stack, "approver")
    case = the_case(reviewer, app["id"])
    reviewer.ok(DECIDE, {"id": case["id"], "input": {"decision": "APPROVE"}, "key": uuid.uuid4().hex})
    plan = shopper.ok(CONFIRM, accepted(shopper, app["id"]))["confirmPlan"]
    ship(app["checkoutId"])  # captured: the plan runs, its first part is paid
    refund = merchants().client("demo-shop").refund(app["checkoutId"], 2_000, "EUR", key=uuid.uuid4().hex)
    assert refund.status_code == 201, refund.text

    # the lookup finds the customer by each of its keys, masked
    found = {
        key: reviewer.ok(LOOKUP, {key: value})["customerLookup"]
        for key, value in (
            ("email", shopper.email.upper()),
            ("phone", profile["phoneNumber"]),
            ("app", app["id"]),
            ("plan", plan["id"]),
        )
    }
    for key, matches in found.items():
        assert [m["customerId"] for m in matches] == [shopper.sub], key
    match = found["email"][0]
    assert match["email"] != shopper.email and match["email"].endswith("@example.com")
    assert match["phoneNumber"] != profile["phoneNumber"] and match["phoneNumber"][-3:] == profile["phoneNumber"][-3:]
    assert match["givenName"] == profile["givenName"] and match["familyInitial"] == profile["familyName"][:1]
    assert "familyName" not in match and "address" not in match
    assert reviewer.ok(LOOKUP, {"app": "no-such-application"})["customerLookup"] == []
    bad_phone = reviewer.error(LOOKUP, {"phone": "12345"})
    assert bad_phone["errorType"] == "ValidationError" and bad_phone["errorInfo"]["field"] == "phone"
    assert reviewer.error(LOOKUP, {"email": shopper.email, "phone": profile["phoneNumber"]})["errorType"] == (
        "ValidationError"
    )

    # its business with the platform, and the plan's payments and refunds
    overview = reviewer.ok(OVERVIEW, {"id": shopper.sub})["customerOverview"]
    assert [a["id"] for a in overview["applications"]] == [app["id"]]
    assert [p["id"] for p in overview["plans"]] == [plan["id"]]
    seen = reviewer.ok(STAFF_PLAN, {"id": plan["id"]})["staffPlan"]
    assert seen["customerId"] == shopper.sub and seen["plan"]["status"] == "ACTIVE"
    assert len(seen["payments"]) == 1 and seen["payments"][0]["source"] == "CONFIRMATION"
    assert [(r["amount"]["amount"], r["reason"]) for r in seen["refunds"]] == [(2_000, "returned")]
    assert sum(i["amount"]["amount"] for i in seen["plan"]["installments"]) == seen["plan"]["principal"]["amount"]

    # the full profile needs a reason, and says who asked
    short = reviewer.error(PROFILE, {"id": shopper.sub, "reason": "x"})
    assert short["errorInfo"]["field"] == "reason"
    full = reviewer.ok(PROFILE, {"id": shopper.sub, "reason": "income check for the case", "case": case["id"]})
    assert full["customerProfile"]["familyName"] == profile["familyName"]
    assert full["customerProfile"]["phoneNumber"] == profile["phoneNumber"]

    first = approver.ok(PROFILE_AUDIT, {"id": shopper.sub})["profileAudit"]
    records = first["items"]
    assert first["nextToken"] is None
    # a page at a time, as auditLog: the same records in the same order, each once
    paged, token = [], None
    while True:
        page = approver.ok(PROFILE_AUDIT, {"id": shopper.sub, "limit": 2, "next": token})["profileAudit"]
        paged += page["items"]
        token = page["nextToken"]
        if token is None:
            break
    assert [r["id"] for r in paged] == [r["id"] for r in records]
    bad_token = approver.error(PROFILE_AUDIT, {"id": shopper.sub, "next": "not-a-token"})
    assert bad_token["errorInfo"]["field"] == "nextToken"
    actions = [r["action"] for r in records]
    assert actions == ["profile.viewed"] + ["profile.searched"] * 4
    viewed = records[0]
    assert viewed["reason"] == "income check for the case" and viewed["caseId"] == case["id"]
    assert "operations" in viewed["actorGroups"] and viewed["customerIds"] == [shopper.sub]
    assert shopper.email not in json.dumps(records) and profile["phoneNumber"] not in json.dumps(records)
    credit_actions = [i["action"] for i in approver.ok(AUDIT, {"s": f"customer:{shopper.sub}"})["auditLog"]["items"]]
    assert {"customer.viewed", "plan.viewed"} <= set(credit_actions)
    plan_actions = [i["action"] for i in approver.ok(AUDIT, {"s": f"plan:{plan['id']}"})["auditLog"]["items"]]
    assert plan_actions == ["plan.viewed"]


SET_ORIGINS = """mutation O($id: ID!, $origins: [String!]!) {
  setMerchantOrigins(merchantId: $id, origins: $origins) { id origins } }"""
SET_WEBHOOK = """mutation W($id: ID!, $url: String) {
  setMerchantWebhookUrl(merchantId: $id, webhookUrl: $url) { id webhookUrl } }"""
MERCHANT = "id displayName status market currency origins webhookUrl liveWebhookSecrets keys { accessKeyId valid }"
CREATE_MERCHANT = (
    "mutation M($input: MerchantInput!) { createMerchant(input: $input) { merchant { "
    + MERCHANT
    + " } credentials { accessKeyId secretAccessKey } webhookSecret } }"
)
SUSPEND = "mutation S($id: ID!, $r: String) { suspendMerchant(merchantId: $id, reason: $r) { id status } }"
ACTIVATE = "mutation A($id: ID!) { activateMerchant(merchantId: $id) { id status } }"
ROTATE_KEY = (
    "mutation K($id: ID!) { rotateMerchantKey(merchantId: $id) {"
    " merchant { keys { accessKeyId valid } } credentials { accessKeyId secretAccessKey } } }"
)
ROTATE_SECRET = (
    "mutation W($id: ID!) { rotateWebhookSecret(merchantId: $id) { merchant { liveWebhookSecrets } webhookSecret } }"
)


def until(call: Any, done: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = call()
        if done(result) or time.monotonic() > deadline:
            return result
        time.sleep(0.5)


def test_an_approver_creates_suspends_and_rotates_a_merchant(stack: Stack) -> None:
    from bnpl_credit.testing import MerchantClient, checkout_body

    approver = staff(stack, "approver")
    merchant_id = f"shop-{uuid.uuid4().hex[:8]}"
    origin = "http://127.0.0.1:8100"
    bad = approver.error(
        CREATE_MERCHANT,
        {
            "input": {
                "merchantId": "No Such Id",
                "displayName": "x",
                "market": "EU",
                "currency": "EUR",
                "origins": [origin],
            }
        },
    )
    assert bad["errorInfo"]["field"] == "input.merchantId"
    created = approver.ok(
        CREATE_MERCHANT,
        {
            "input": {
                "merchantId": merchant_id,
                "displayName": "Corner Shop",
                "market": "EU",
                "currency": "EUR",
                "origins": [origin],
                "webhookUrl": "http://127.0.0.1:8100/webhooks",
            }
        },
    )["createMerchant"]
    creds = created["credentials"]
    assert created["merchant"]["status"] == "ACTIVE" and created["webhookSecret"].startswith("whsec_")
    listed = approver.ok("query { merchants { " + MERCHANT + " } }")["merchants"]
    assert merchant_id in [m["id"] for m in listed]
    assert creds["secretAccessKey"] not in json.dumps(listed) and created["webhookSecret"] not in json.dumps(listed)

    shop = MerchantClient(stack.url("credit"), creds)
    assert shop.create_checkout(checkout_body(origin=origin)).status_code == 201  # the new key signs
    assert approver.ok(SUSPEND, {"id": merchant_id, "r": "chargebacks"})["suspendMerchant"]["status"] == "SUSPENDED"
    # the merchant API reads the registry through a short cache (MERCHANT_KEY_CACHE_SECONDS, 5 s)
    refused = until(lambda: shop.create_checkout(checkout_body(origin=origin)), lambda r: r.status_code == 403)
    assert refused.json()["error"]["type"] == "MerchantSuspended"
    assert approver.ok(ACTIVATE, {"id": merchant_id})["activateMerchant"]["status"] == "ACTIVE"
    assert until(lambda: shop.create_checkout(checkout_body(origin=origin)), lambda r: r.status_code == 201)

    rotated = approver.ok(ROTATE_KEY, {"id": merchant_id})["rotateMerchantKey"]
    assert rotated["credentials"]["accessKeyId"] != creds["accessKeyId"]
    assert [k["valid"] for k in rotated["merchant"]["keys"]] == [True, True]  # the old key has 24 h of grace
    assert (
        MerchantClient(stack.url("credit"), rotated["credentials"])
        .create_checkout(checkout_body(origin=origin))
        .status_code
        == 201
    )
    secret = approver.ok(ROTATE_SECRET, {"id": merchant_id})["rotateWebhookSecret"]
    assert secret["merchant"]["liveWebhookSecrets"] == 2 and secret["webhookSecret"] != created["webhookSecret"]

    # origins and the webhook URL, as the CLI changes them, through the registry's checks
    moved = "http://127.0.0.1:8101"
    bad_origin = approver.error(SET_ORIGINS, {"id": merchant_id, "origins": ["not an origin"]})
    assert bad_origin["errorInfo"]["field"] == "origins"
    changed = approver.ok(SET_ORIGINS, {"id": merchant_id, "origins": [moved]})["setMerchantOrigins"]
    assert changed["origins"] == [moved]
    shop = MerchantClient(stack.url("credit"), rotated["credentials"])
    assert until(lambda: shop.create_checkout(checkout_body(origin=moved)), lambda r: r.status_code == 201)
    assert shop.create_checkout(checkout_body(origin=origin)).status_code == 422  # no longer the shop's
    bad_hook = approver.error(SET_WEBHOOK, {"id": merchant_id, "url": "ftp://127.0.0.1/hooks"})
    assert bad_hook["errorInfo"]["field"] == "webhookUrl"
    hook = approver.ok(SET_WEBHOOK, {"id": merchant_id, "url": f"{moved}/webhooks"})["setMerchantWebhookUrl"]
    assert hook["webhookUrl"] == f"{moved}/webhooks"
    assert staff(stack, "reviewer").error(SET_WEBHOOK, {"id": merchant_id, "url": None})["errorType"] == (
        "Unauthorized"
    )

    records = approver.ok(AUDIT, {"s": f"merchant:{merchant_id}"})["auditLog"]["items"]
    assert [r["action"] for r in reversed(records)] == [
        "merchant.created",
        "merchant.suspended",
        "merchant.activated",
        "merchant.key_rotated",
        "merchant.webhook_secret_rotated",
        "merchant.origins_changed",
        "merchant.webhook_url_changed",
    ]
    assert json.loads(records[1]["details"]) == {"previous": [origin], "origins": [moved]}
    assert json.loads(records[0]["details"]) == {
        "previous": "http://127.0.0.1:8100/webhooks",
        "webhookUrl": f"{moved}/webhooks",
    }
    assert records[5]["reason"] == "chargebacks" and "operations-risk" in records[0]["actorGroups"]
    everything = json.dumps(records)
    for secret_value in (creds["secretAccessKey"], created["webhookSecret"], secret["webhookSecret"]):
        assert secret_value not in everything


DASHBOARD = """query { reviewDashboard { decisionsToday { name count } referralRate liveByAge { name count }
  byStatus { name count } oldestLiveAgeSeconds } }"""


def test_the_dashboard_counts_todays_decisions_platform_wide(stack: Stack, new_shopper) -> None:
    reviewer = staff(stack, "reviewer")
    before = reviewer.ok(DASHBOARD)["reviewDashboard"]
    shopper = new_shopper()
    verified(shopper, stack, good_profile())
    apply(shopper, amount=5_000)  # REFERRED: the model is switched off
    after = reviewer.ok(DASHBOARD)["reviewDashboard"]

    def counts(board: dict[str, Any]) -> dict[str, int]:
        return {c["name"]: c["count"] for c in board["decisionsToday"]}

    assert set(counts(after)) == {"APPROVED", "DECLINED", "REFERRED"}
    assert counts(after)["REFERRED"] == counts(before)["REFERRED"] + 1
    total = sum(counts(after).values())
    assert after["referralRate"] == pytest.approx(counts(after)["REFERRED"] / total, abs=1e-4)
    assert [c["name"] for c in after["liveByAge"]] == ["UNDER_1_HOUR", "1_TO_4_HOURS", "4_TO_24_HOURS", "OVER_24_HOURS"]
    assert sum(c["count"] for c in after["liveByAge"]) >= 1


WAIVE = """mutation W($plan: ID!, $inst: ID, $reason: String!, $key: String!) {
  waiveLateFee(planId: $plan, installmentId: $inst, reason: $reason, idempotencyKey: $key) {
  plan { id status lateFees { amount } amountOutstanding { amount }
         installments { sequence lateFee { amount } status } }
  waived { sequence amount { amount currency } } } }"""


def test_an_approver_waives_a_late_fee_with_a_reason(stack: Stack, new_shopper, clock_file: Path) -> None:
    shopper = new_shopper()
    verified(shopper, stack, good_profile())
    app = apply(shopper, amount=20_000)
    reviewer, approver = staff(stack, "reviewer"), staff(stack, "approver")
    reviewer.ok(
        DECIDE,
        {"id": the_case(reviewer, app["id"])["id"], "input": {"decision": "APPROVE"}, "key": uuid.uuid4().hex},
    )
    plan = shopper.ok(CONFIRM, accepted(shopper, app["id"]))["confirmPlan"]
    ship(app["checkoutId"])
    # the card on file now declines every charge: the scheduler cannot collect installment 2, so
    # it goes late (with a card that pays, the scheduler would collect it on its due date)
    add_card(shopper, CARD_NO_FUNDS)
    try:
        clock_file.write_text(str(25 * 86_400))  # installment 2 (day 14) is late after the 7 grace days
        deadline = time.monotonic() + 20
        while True:
            before = reviewer.ok(STAFF_PLAN, {"id": plan["id"]})["staffPlan"]["plan"]
            late = [i for i in before["installments"] if i["status"] == "LATE"]
            if late or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert [i["sequence"] for i in late] == [2], before
        fee = 500  # the EU market's late fee (capped at 25 % of the installment)
        variables = {"plan": plan["id"], "inst": "2", "reason": "Shopper was in hospital", "key": uuid.uuid4().hex}

        refused = reviewer.error(WAIVE, variables)  # approvers only
        assert refused["errorType"] == "Unauthorized"
        assert shopper.error(WAIVE, variables)["errorType"] == "Unauthorized"
        short = approver.error(WAIVE, {**variables, "reason": "no", "key": uuid.uuid4().hex})
        assert short["errorInfo"]["field"] == "reason"
        assert approver.error(WAIVE, {**variables, "inst": "3", "key": uuid.uuid4().hex})["errorType"] == "NoLateFee"

        out = approver.ok(WAIVE, variables)["waiveLateFee"]
        assert out["waived"] == [{"sequence": 2, "amount": {"amount": fee, "currency": "EUR"}}]
        assert out["plan"]["amountOutstanding"]["amount"] == before["amountOutstanding"]["amount"] - fee
        second = next(i for i in out["plan"]["installments"] if i["sequence"] == 2)
        assert second["lateFee"]["amount"] == 0 and second["status"] == "LATE"  # still late, without the fee
        again = approver.ok(WAIVE, variables)["waiveLateFee"]  # a retry: the same answer, nothing twice
        assert again == out
        assert approver.error(WAIVE, {**variables, "key": uuid.uuid4().hex})["errorType"] == "NoLateFee"

        records = approver.ok(AUDIT, {"s": f"plan:{plan['id']}"})["auditLog"]["items"]
        waived = [r for r in records if r["action"] == "plan.late_fee_waived"]
        assert len(waived) == 1 and waived[0]["reason"] == "Shopper was in hospital"
        assert json.loads(waived[0]["details"])["waived"][0]["amount"]["amount"] == fee
        assert "operations-risk" in waived[0]["actorGroups"]
    finally:
        clock_file.write_text("0")


# -- role separation, generated from the schema ------------------------------------------------


def _value(tp: GraphQLInputType) -> Any:
    if isinstance(tp, GraphQLNonNull):
        return _value(tp.of_type)
    if isinstance(tp, GraphQLList):
        return [_value(tp.of_type)]
    if isinstance(tp, GraphQLEnumType):
        return next(iter(tp.values))
    if isinstance(tp, GraphQLInputObjectType):
        return {n: _value(f.type) for n, f in tp.fields.items() if isinstance(f.type, GraphQLNonNull)}
    assert isinstance(tp, GraphQLScalarType)
    return {
        "Int": 1,
        "Float": 1.0,
        "Boolean": True,
        "AWSDate": "2000-01-01",
        "AWSDateTime": "2000-01-01T00:00:00Z",
    }.get(tp.name, "x")


def root_operations() -> list[tuple[str, str, dict[str, Any]]]:
    """(field, document, variables) for every root field, with a value for each required argument."""
    graphql_schema = build_schema(create_schema().as_str())
    found = []
    for kind, root in (("query", graphql_schema.query_type), ("mutation", graphql_schema.mutation_type)):
        assert root is not None
        for name, field in root.fields.items():
            required = {a: arg for a, arg in field.args.items() if isinstance(arg.type, GraphQLNonNull)}
            decl = ", ".join(f"${a}: {arg.type}" for a, arg in required.items())
            args = ", ".join(f"{a}: ${a}" for a in required)
            selection = " { __typename }" if isinstance(get_named_type(field.type), GraphQLObjectType) else ""
            document = f"{kind}{f'({decl})' if decl else ''} {{ {name}{f'({args})' if args else ''}{selection} }}"
            found.append((name, document, {a: _value(arg.type) for a, arg in required.items()}))
    return found


STAFF_ONLY = {
    "reviewQueue",
    "reviewCase",
    "reviewReasons",
    "reviewDashboard",
    "decideReview",
    "approveReview",
    "auditLog",
    "customerLookup",
    "customerOverview",
    "customerProfile",
    "staffPlan",
    "profileAudit",
    "waiveLateFee",
    *MERCHANT_FIELDS,
}
APPROVER_ONLY = {"approveReview", "auditLog", "profileAudit", "waiveLateFee", *MERCHANT_FIELDS}


def test_every_operation_refuses_the_other_side(stack: Stack, new_shopper) -> None:
    shopper = new_shopper()
    reviewer, approver = staff(stack, "reviewer"), staff(stack, "approver")
    operations = root_operations()
    assert {name for name, _, _ in operations} >= STAFF_ONLY
    refused: dict[str, list[str]] = {"shopper": [], "reviewer": [], "approver": []}
    for name, document, variables in operations:
        callers = (
            [("shopper", shopper)] + ([("reviewer", reviewer)] if name in APPROVER_ONLY else [])
            if name in STAFF_ONLY
            else [("reviewer", reviewer), ("approver", approver)]
        )
        for who, caller in callers:
            body = caller.gql(document, variables).json()
            errors = body.get("errors") or []
            assert body.get("data") is None and errors and errors[0]["errorType"] == "Unauthorized", (who, name, body)
            refused[who].append(name)
    assert sorted(refused["shopper"]) == sorted(STAFF_ONLY)
    assert len(refused["approver"]) == len(operations) - len(STAFF_ONLY)
    # and a staff token is good for its own side
    assert reviewer.ok("query { reviewReasons { code } }")["reviewReasons"]


# -- expiry: the last test, it moves the credit service's clock ---------------------------------


def test_an_undecided_case_expires_and_the_shopper_is_told(stack: Stack, new_shopper, clock_file: Path) -> None:
    shopper = new_shopper()
    profile = good_profile()
    verified(shopper, stack, profile)
    app = apply(shopper)
    reviewer, approver = staff(stack, "reviewer"), staff(stack, "approver")
    case = the_case(reviewer, app["id"])
    try:
        clock_file.write_text(str(TTL_SECONDS + 60))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            expired = [
                c for c in reviewer.ok(QUEUE, {"status": "EXPIRED"})["reviewQueue"]["items"] if c["id"] == case["id"]
            ]
            if expired:
                break
            time.sleep(0.3)
        assert expired, "the sweeper did not expire the case"
        after = shopper.ok(APP_WITH_REVIEW, {"id": app["id"]})["application"]
        assert after["applicationStatus"] == "EXPIRED" and after["reviewStatus"]["status"] == "EXPIRED"
        assert merchant_session(app["checkoutId"])["status"] == "EXPIRED"
        assert webhook_types(app["checkoutId"]) == ["checkout.expired", "checkout.referred"]
        late = reviewer.error(DECIDE, {"id": case["id"], "input": {"decision": "APPROVE"}, "key": uuid.uuid4().hex})
        assert late["errorType"] == "InvalidCaseState"
        assert any("closed" in body for body in sms_to(stack, profile["phoneNumber"]))
        assert audit_actions(approver, case["id"]) == ["case.expired"]
        expired_record = approver.ok(AUDIT, {"s": f"case:{case['id']}"})["auditLog"]["items"][0]
        assert expired_record["actor"] == "system"
    finally:
        clock_file.write_text("0")
