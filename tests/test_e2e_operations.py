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
from tests.journey import APPLICATION_FIELDS, APPLY, add_card, good_profile, merchants_of, order, poor_profile
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
    """mutation C($id: ID!, $key: String!) { confirmPlan(applicationId: $id, idempotencyKey: $key) { id status } }"""
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
    plan = shopper.ok(CONFIRM, {"id": app["id"], "key": uuid.uuid4().hex})["confirmPlan"]
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
}
APPROVER_ONLY = {"approveReview", "auditLog"}


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
        late = reviewer.error(DECIDE, {"id": case["id"], "input": {"decision": "APPROVE"}, "key": uuid.uuid4().hex})
        assert late["errorType"] == "InvalidCaseState"
        assert any("closed" in body for body in sms_to(stack, profile["phoneNumber"]))
        assert audit_actions(approver, case["id"]) == ["case.expired"]
        expired_record = approver.ok(AUDIT, {"s": f"case:{case['id']}"})["auditLog"]["items"][0]
        assert expired_record["actor"] == "system"
    finally:
        clock_file.write_text("0")
