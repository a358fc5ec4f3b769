"""The shopper journey through the gateway's GraphQL API, against the real processes."""

from __future__ import annotations

import itertools
import uuid
from datetime import date, timedelta

import pytest

from scripts.devstack import Stack
from tests.conftest import Shopper, read_outbox
from tests.journey import (
    APPLICATION,
    APPLICATIONS,
    APPLY,
    CONFIRM_VERIFICATION,
    CREATE_PROFILE,
    ME,
    START_VERIFICATION,
    good_profile,
    order,
    poor_profile,
    session_of,
)

pytestmark = pytest.mark.e2e


def verified(shopper: Shopper, stack: Stack, profile: dict) -> dict:
    created = shopper.ok(CREATE_PROFILE, {"input": {**profile, "email": shopper.email}})["createProfile"]
    assert created["id"] == shopper.sub
    assert created["phoneVerified"] is False
    challenge = shopper.ok(START_VERIFICATION)["startPhoneVerification"]
    assert challenge["attemptsRemaining"] == 5
    assert profile["phoneNumber"][-3:] in challenge["destination"]
    assert profile["phoneNumber"] != challenge["destination"], "destination must be masked"
    code = read_outbox(stack, profile["phoneNumber"])
    confirmed = shopper.ok(CONFIRM_VERIFICATION, {"code": code})["confirmPhoneVerification"]
    assert confirmed["phoneVerified"] is True
    return created


def test_good_profile_is_approved_with_a_pay_in_4_schedule(stack: Stack, new_shopper) -> None:
    shopper = new_shopper()
    profile = good_profile()
    verified(shopper, stack, profile)

    me = shopper.ok(ME)["me"]
    assert me["email"] == shopper.email
    assert me["givenName"] == "Alba" and me["dateOfBirth"] == "1979-04-12"
    assert me["address"]["country"] == "ES"
    assert me["creditLimit"] is None  # no approval yet

    the_order = order(amount=20_001)
    key = uuid.uuid4().hex
    app = shopper.ok(APPLY, {"input": the_order, "key": key})["applyForCredit"]
    assert app["status"] == "APPROVED", app
    assert app["amount"] == {"amount": 20_001, "currency": "EUR"}
    session = session_of(the_order)
    assert (app["merchantId"], app["orderReference"]) == ("demo-shop", session["orderReference"])
    assert app["checkoutId"] == session["id"]
    assert isinstance(app["score"], int) and app["riskGrade"] in {"A", "B", "C", "D", "E"}
    assert app["modelVersion"] and app["policyVersion"]
    assert len(app["reasons"]) <= 4
    offer = app["offer"]
    installments = offer["installments"]
    assert len(installments) == 4
    amounts = [i["amount"]["amount"] for i in installments]
    assert sum(amounts) == 20_001
    assert max(amounts) - min(amounts) <= 1
    assert offer["apr"] == 0 and offer["financeCharge"]["amount"] == 0
    dues = [date.fromisoformat(i["dueDate"]) for i in installments]
    assert [b - a for a, b in itertools.pairwise(dues)] == [timedelta(days=14)] * 3

    # A retry with the same key returns the same decision, not a new one.
    again = shopper.ok(APPLY, {"input": the_order, "key": key})["applyForCredit"]
    assert again["id"] == app["id"]
    # The same key with another order (another merchant session) is refused.
    err = shopper.error(APPLY, {"input": {**the_order, "checkoutToken": order()["checkoutToken"]}, "key": key})
    assert err["errorType"] == "IdempotencyConflict"

    fetched = shopper.ok(APPLICATION, {"id": app["id"]})["application"]
    assert fetched["id"] == app["id"] and fetched["status"] == "APPROVED"
    listed = shopper.ok(APPLICATIONS, {"limit": 10})["applications"]
    assert [i["id"] for i in listed["items"]] == [app["id"]]

    me = shopper.ok(ME)["me"]
    assert me["creditLimit"]["amount"] > 0
    assert me["availableCredit"]["amount"] <= me["creditLimit"]["amount"] - 20_001


def test_poor_profile_is_declined_with_reasons(stack: Stack, new_shopper) -> None:
    shopper = new_shopper()
    verified(shopper, stack, poor_profile())
    app = shopper.ok(APPLY, {"input": order(amount=90_000), "key": uuid.uuid4().hex})["applyForCredit"]
    assert app["status"] == "DECLINED", app
    assert app["offer"] is None
    assert 1 <= len(app["reasons"]) <= 4
    for reason in app["reasons"]:
        assert reason["code"] and len(reason["description"]) > 10
    assert all("marital" not in r["description"].lower() for r in app["reasons"])


def test_applications_are_paged_newest_first(stack: Stack, new_shopper) -> None:
    shopper = new_shopper()
    verified(shopper, stack, good_profile())
    ids = [
        shopper.ok(APPLY, {"input": order(amount=5_000), "key": uuid.uuid4().hex})["applyForCredit"]["id"]
        for _ in range(3)
    ]
    first = shopper.ok(APPLICATIONS, {"limit": 2})["applications"]
    assert [i["id"] for i in first["items"]] == ids[::-1][:2]
    assert first["nextToken"]
    second = shopper.ok(APPLICATIONS, {"limit": 2, "next": first["nextToken"]})["applications"]
    assert [i["id"] for i in second["items"]] == [ids[0]]
    assert second["nextToken"] is None


def test_wrong_code_is_refused_and_counts_attempts(stack: Stack, new_shopper) -> None:
    shopper = new_shopper()
    profile = good_profile()
    shopper.ok(CREATE_PROFILE, {"input": profile})
    shopper.ok(START_VERIFICATION)
    code = read_outbox(stack, profile["phoneNumber"])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    err = shopper.error(CONFIRM_VERIFICATION, {"code": wrong})
    assert err["errorType"] == "CodeMismatch"
    assert err["errorInfo"]["attemptsRemaining"] == 4
    assert shopper.ok(ME)["me"]["phoneVerified"] is False
    # Applying before the phone is verified is refused and stores nothing.
    err = shopper.error(APPLY, {"input": order(), "key": uuid.uuid4().hex})
    assert err["errorType"] == "PhoneNotVerified"
    assert shopper.ok(APPLICATIONS)["applications"]["items"] == []
    assert shopper.ok(CONFIRM_VERIFICATION, {"code": code})["confirmPhoneVerification"]["phoneVerified"] is True
