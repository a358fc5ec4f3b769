"""Hardening items of the user service, over REST on both storage adapters: someone else's
number (item 5), versioned declared finances with a limit on edits (item 4), and the signed
profile snapshot with its person key (items 3 and 10)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from bnpl_common.clock import FixedClock
from bnpl_common.profile_signature import (
    LOCAL_PROFILE_SIGNING_KEY_ID,
    LOCAL_PROFILE_VERIFY_KEY,
    ProfileSignatureError,
    ProfileVerifier,
    public_key,
)
from bnpl_user.testing import UserApi

BOTH = pytest.mark.parametrize("store", ["sqlite", "dynamodb"], indirect=True)
NUMBER = "+447700900555"


def _verify(api: UserApi, sub: str) -> None:
    assert api.call("POST", "/v1/profile/phone-verification", sub=sub).status_code == 202
    r = api.call("POST", "/v1/profile/phone-verification/confirm", sub=sub, json={"code": api.last_code()})
    assert r.status_code == 200 and r.json()["phoneVerified"] is True, r.text


def _sms_to(api: UserApi, number: str) -> int:
    return sum(1 for message in api.sms() if message["to"] == number)


# -- item 5: someone else's number ------------------------------------------------------------


@BOTH
def test_strangers_asking_codes_for_a_verified_number_send_nothing_and_lock_nobody_out(api: UserApi) -> None:
    assert api.create_profile(sub="owner", phoneNumber=NUMBER).status_code == 201
    _verify(api, "owner")
    assert _sms_to(api, NUMBER) == 1
    answers = []
    for n in range(5):
        sub = f"stranger-{n}"
        assert api.create_profile(sub=sub, phoneNumber=NUMBER, familyName=f"Mallory{n}").status_code == 201
        r = api.call("POST", "/v1/profile/phone-verification", sub=sub)
        answers.append(r)
    # the same answer as a code sent: 202, the masked number, an expiry, the tries
    assert [r.status_code for r in answers] == [202] * 5
    assert {tuple(sorted(r.json())) for r in answers} == {("attemptsRemaining", "destination", "expiresAt")}
    assert {r.json()["destination"] for r in answers} == {"+44*******555"}
    assert _sms_to(api, NUMBER) == 1  # the owner got no SMS from them
    # no code they could guess works, and what they see is an ordinary mismatch
    r = api.call("POST", "/v1/profile/phone-verification/confirm", sub="stranger-0", json={"code": "000000"})
    assert r.status_code == 422 and r.json()["error"]["type"] == "CodeMismatch"
    # the owner's own second account (same person) still gets a code and verifies
    assert api.create_profile(sub="owner-2", phoneNumber=NUMBER).status_code == 201
    _verify(api, "owner-2")
    assert _sms_to(api, NUMBER) == 2


@BOTH
def test_strangers_cannot_use_up_the_allowance_of_an_unverified_number(api: UserApi) -> None:
    for n in range(5):
        sub = f"stranger-{n}"
        assert api.create_profile(sub=sub, phoneNumber=NUMBER, familyName=f"Mallory{n}").status_code == 201
        assert api.call("POST", "/v1/profile/phone-verification", sub=sub).status_code == 202
    # before anyone proved the number, nothing tells its owner from a stranger: each got a code,
    # but the per-number cap counts per person, so the owner is not locked out
    assert api.create_profile(sub="owner", phoneNumber=NUMBER).status_code == 201
    _verify(api, "owner")


# -- item 4: declared finances are versioned, changes recorded and limited ---------------------


@BOTH
def test_finance_changes_move_the_version_and_are_limited(api: UserApi, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    created = api.create_profile()
    assert created.json()["financeVersion"] == 1
    r = api.call("PATCH", "/v1/profile", json={"givenName": "Augusta"})
    assert r.json()["financeVersion"] == 1  # not a finance field
    r = api.call("PATCH", "/v1/profile", json={"monthlyIncome": {"amount": 412_345, "currency": "GBP"}})
    assert r.status_code == 200 and r.json()["financeVersion"] == 2
    r = api.call("PATCH", "/v1/profile", json={"housing": "OWNER"})
    assert r.json()["financeVersion"] == 3
    r = api.call("PATCH", "/v1/profile", json={"debt": {"amount": 1, "currency": "GBP"}})
    assert r.json()["financeVersion"] == 4
    r = api.call("PATCH", "/v1/profile", json={"monthlyIncome": {"amount": 999_999, "currency": "GBP"}})
    assert r.status_code == 429, r.text
    error = r.json()["error"]
    assert error["type"] == "TooManyRequests" and error["field"] == "monthlyIncome"
    assert error["info"]["retryAfterSeconds"] > 0
    profile = api.call("GET", "/v1/profile").json()
    assert profile["monthlyIncome"]["amount"] == 412_345 and profile["financeVersion"] == 4  # nothing written
    # other fields still change
    assert api.call("PATCH", "/v1/profile", json={"givenName": "Ada"}).status_code == 200
    # the values changed are in the store, never in a log line
    assert "412345" not in caplog.text and "999999" not in caplog.text


def test_the_finance_limit_is_a_rolling_window(api: UserApi, clock: FixedClock) -> None:
    api.create_profile()
    for amount in (400_000, 410_000, 420_000):
        assert api.call(
            "PATCH", "/v1/profile", json={"monthlyIncome": {"amount": amount, "currency": "GBP"}}
        ).is_success
    body = {"monthlyExpenses": {"amount": 1, "currency": "GBP"}}
    assert api.call("PATCH", "/v1/profile", json=body).status_code == 429
    clock.advance(timedelta(days=30, seconds=1))
    r = api.call("PATCH", "/v1/profile", json=body)
    assert r.status_code == 200 and r.json()["financeVersion"] == 5


# -- items 3 and 10: the signed snapshot and its person key -------------------------------------


def _verifier() -> ProfileVerifier:
    return ProfileVerifier(
        {LOCAL_PROFILE_SIGNING_KEY_ID: public_key(LOCAL_PROFILE_VERIFY_KEY)}, max_age=timedelta(minutes=1)
    )


@BOTH
def test_the_snapshot_is_signed_and_names_the_person_once_the_phone_is_verified(api: UserApi) -> None:
    api.create_profile(sub="a", phoneNumber=NUMBER, familyName="O'Brien")
    r = api.call("GET", "/v1/profile/snapshot", sub="a")
    assert r.status_code == 200
    snap = r.json()
    assert snap["profile"]["id"] == "a" and snap["profile"]["personKey"] is None
    assert snap["profile"]["financeVersion"] == 1
    now = datetime.now(UTC)
    _verifier().verify(snap["profile"], signed_at=snap["signedAt"], signature=snap["signature"], now=now)
    altered = {**snap["profile"], "monthlyIncome": {"amount": 400_000_00, "currency": "GBP"}}
    with pytest.raises(ProfileSignatureError):
        _verifier().verify(altered, signed_at=snap["signedAt"], signature=snap["signature"], now=now)
    _verify(api, "a")
    key_a = api.call("GET", "/v1/profile/snapshot", sub="a").json()["profile"]["personKey"]
    assert isinstance(key_a, str) and len(key_a) == 64
    # the same person on another account (name written differently): the same key
    api.create_profile(sub="b", phoneNumber=NUMBER, familyName="OBRIEN")
    _verify(api, "b")
    assert api.call("GET", "/v1/profile/snapshot", sub="b").json()["profile"]["personKey"] == key_a
    # another date of birth is another person
    api.create_profile(sub="c", phoneNumber="+447700900556", familyName="O'Brien", dateOfBirth="1991-01-01")
    _verify(api, "c")
    assert api.call("GET", "/v1/profile/snapshot", sub="c").json()["profile"]["personKey"] != key_a


def test_the_snapshot_is_the_callers_only(api: UserApi) -> None:
    api.create_profile(sub="a")
    assert api.call("GET", "/v1/profile/snapshot", sub="b").status_code == 404
    assert api.call("GET", "/v1/profile/snapshot", sub="a", signed=False).status_code == 403
