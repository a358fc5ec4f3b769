"""Phone verification: code by SMS (read from the outbox), attempts, expiry, throttle, failures."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from bnpl_common.clock import FixedClock
from bnpl_common.testing import TokenMinter
from bnpl_user.notifier import NotifierError
from bnpl_user.settings import Settings
from bnpl_user.testing import UserApi, in_process_client

# Every API test runs on both storage adapters (DynamoDB: a fresh table on the moto server).
pytestmark = pytest.mark.parametrize("store", ["sqlite", "dynamodb"], indirect=True)

START = "/v1/profile/phone-verification"
CONFIRM = "/v1/profile/phone-verification/confirm"


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_code_by_sms_verifies_the_phone(api: UserApi) -> None:
    api.create_profile()
    r = api.call("POST", START)
    assert r.status_code == 202, r.text
    assert r.json() == {
        "destination": "+44*******789",
        "expiresAt": "2026-03-15T12:10:00Z",
        "attemptsRemaining": 5,
    }
    [sms] = api.sms()
    assert sms["to"] == "+447700900789"
    assert sms["body"] == f"Your BNPL verification code is {api.last_code()}. It expires in 10 minutes."
    assert sms["sent_at"].startswith("2026-03-15T12:00:00")

    r = api.call("POST", CONFIRM, json={"code": api.last_code()})
    assert r.status_code == 200, r.text
    assert r.json()["phoneVerified"] is True
    assert api.call("GET", "/v1/profile").json()["phoneVerified"] is True

    # Done: the code cannot be used again, and there is nothing left to verify.
    assert api.call("POST", CONFIRM, json={"code": api.last_code()}).json()["error"]["type"] == "NoVerificationPending"
    r = api.call("POST", START)
    assert r.status_code == 409
    assert r.json()["error"]["type"] == "PhoneAlreadyVerified"


def test_wrong_code_spends_an_attempt(api: UserApi) -> None:
    api.create_profile()
    api.call("POST", START)
    code = api.last_code()
    for remaining in (4, 3):
        r = api.call("POST", CONFIRM, json={"code": _wrong(code)})
        assert r.status_code == 422
        error = r.json()["error"]
        assert (error["type"], error["field"], error["info"]) == (
            "CodeMismatch",
            "code",
            {"attemptsRemaining": remaining},
        )
    assert api.call("POST", CONFIRM, json={"code": code}).status_code == 200


def test_five_wrong_codes_kill_the_challenge(api: UserApi) -> None:
    api.create_profile()
    api.call("POST", START)
    code = api.last_code()
    statuses = [api.call("POST", CONFIRM, json={"code": _wrong(code)}).status_code for _ in range(5)]
    assert statuses == [422, 422, 422, 422, 429]
    r = api.call("POST", CONFIRM, json={"code": code})
    assert r.status_code == 429
    assert r.json()["error"]["type"] == "TooManyAttempts"
    assert api.call("GET", "/v1/profile").json()["phoneVerified"] is False


def test_code_expires_after_ten_minutes(api: UserApi, clock: FixedClock) -> None:
    api.create_profile()
    api.call("POST", START)
    clock.advance(timedelta(seconds=601))
    r = api.call("POST", CONFIRM, json={"code": api.last_code()})
    assert r.status_code == 422
    assert r.json()["error"]["type"] == "CodeExpired"
    assert api.call("GET", "/v1/profile").json()["phoneVerified"] is False


def test_resend_is_throttled_and_replaces_the_old_code(api: UserApi, clock: FixedClock) -> None:
    api.create_profile()
    api.call("POST", START)
    old = api.last_code()
    clock.advance(timedelta(seconds=10))
    r = api.call("POST", START)
    assert r.status_code == 429
    assert r.json()["error"]["type"] == "TooManyRequests"
    assert r.json()["error"]["info"] == {"retryAfterSeconds": 20}
    assert len(api.sms()) == 1

    clock.advance(timedelta(seconds=20))
    assert api.call("POST", START).status_code == 202
    new = api.last_code()
    assert len(api.sms()) == 2
    if new != old:  # one chance in a million they are equal
        assert api.call("POST", CONFIRM, json={"code": old}).json()["error"]["type"] == "CodeMismatch"
    assert api.call("POST", CONFIRM, json={"code": new}).status_code == 200


def test_no_challenge_and_malformed_code(api: UserApi) -> None:
    api.create_profile()
    r = api.call("POST", CONFIRM, json={"code": "123456"})
    assert (r.status_code, r.json()["error"]["type"]) == (422, "NoVerificationPending")
    for bad in ("12345", "1234567", "abcdef", "１２３４５６"):
        r = api.call("POST", CONFIRM, json={"code": bad})
        assert (r.status_code, r.json()["error"]["field"]) == (422, "code")


def test_start_without_profile_is_404(api: UserApi) -> None:
    assert api.call("POST", START).json()["error"]["type"] == "ProfileNotFound"


def test_new_phone_number_must_be_verified_again(api: UserApi, clock: FixedClock) -> None:
    api.create_profile()
    api.call("POST", START)
    api.call("POST", CONFIRM, json={"code": api.last_code()})
    same = api.call("PATCH", "/v1/profile", json={"phoneNumber": "+447700900789"})
    assert same.json()["phoneVerified"] is True
    changed = api.call("PATCH", "/v1/profile", json={"phoneNumber": "+33612345678"})
    assert changed.json()["phoneVerified"] is False
    r = api.call("POST", START)
    assert r.json()["destination"] == "+33******678"
    assert api.sms()[-1]["to"] == "+33612345678"


def test_changing_the_phone_drops_the_pending_code(api: UserApi) -> None:
    api.create_profile()
    api.call("POST", START)
    api.call("PATCH", "/v1/profile", json={"phoneNumber": "+33612345678"})
    r = api.call("POST", CONFIRM, json={"code": api.last_code()})
    assert r.json()["error"]["type"] == "NoVerificationPending"


class FailingNotifier:
    def __init__(self) -> None:
        self.bodies: list[str] = []

    async def send_sms(self, to: str, body: str) -> None:
        self.bodies.append(body)
        raise NotifierError("the SMS channel is down")


def test_notifier_failure_is_502_and_leaves_no_usable_code(
    settings: Settings, minter: TokenMinter, clock: FixedClock
) -> None:
    notifier = FailingNotifier()
    with in_process_client(settings, minter=minter, clock=clock, notifier=notifier) as client:
        api = UserApi(client, minter, settings.sms_outbox_path)
        api.create_profile()
        r = api.call("POST", START)
        assert r.status_code == 502
        assert r.json()["error"]["type"] == "DependencyFailed"
        code = notifier.bodies[0].split()[-6].rstrip(".")
        assert len(code) == 6
        r = api.call("POST", CONFIRM, json={"code": code})
        assert r.json()["error"]["type"] == "NoVerificationPending"
        # Not throttled: the customer may try again at once.
        assert api.call("POST", START).status_code == 502


@pytest.mark.parametrize("level", [logging.DEBUG, logging.INFO])
def test_codes_never_reach_the_logs(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture, api: UserApi, level: int
) -> None:
    # capsys comes first: the app's JSON handler binds to sys.stdout when the app starts.
    root = logging.getLogger()
    root.addHandler(caplog.handler)  # the app's lifespan replaced the root handlers
    root.setLevel(level)
    caplog.set_level(level)
    api.create_profile()
    api.call("POST", START)
    code = api.last_code()
    api.call("POST", CONFIRM, json={"code": _wrong(code)})
    api.call("POST", CONFIRM, json={"code": code})
    logged = caplog.text + "\n".join(str(vars(r)) for r in caplog.records)
    out = capsys.readouterr()
    printed = out.out + out.err
    assert "verification SMS sent" in logged
    assert "verification SMS sent" in printed
    for text in (logged, printed):
        assert code not in text
        assert _wrong(code) not in text
        assert "+447700900789" not in text
        assert "1990-12-10" not in text
        assert "Lovelace" not in text


# -- daily caps (review finding M2): a new code every 30 s no longer buys new guesses ---------


def test_a_customer_gets_at_most_five_codes_a_day(api: UserApi, clock: FixedClock) -> None:
    api.create_profile()
    for _ in range(5):
        assert api.call("POST", START).status_code == 202
        clock.advance(timedelta(seconds=30))
    r = api.call("POST", START)
    assert r.status_code == 429, r.text
    error = r.json()["error"]
    assert error["type"] == "TooManyRequests" and "today" in error["message"]
    assert error["info"] == {"retryAfterSeconds": 24 * 3600 - 5 * 30}
    assert len(api.sms()) == 5  # the sixth was not sent
    clock.advance(timedelta(seconds=24 * 3600 - 5 * 30))
    assert api.call("POST", START).status_code == 202


def test_a_phone_number_gets_at_most_five_codes_a_day_across_customers(api: UserApi) -> None:
    for n in range(5):
        api.create_profile(sub=f"customer-{n}", phoneNumber="+447700900111")
        assert api.call("POST", START, sub=f"customer-{n}").status_code == 202
    api.create_profile(sub="customer-5", phoneNumber="+447700900111")
    r = api.call("POST", START, sub="customer-5")
    assert r.status_code == 429 and r.json()["error"]["type"] == "TooManyRequests"
    assert r.json()["error"]["info"]["retryAfterSeconds"] == 24 * 3600
    assert len(api.sms()) == 5
    api.create_profile(sub="customer-6", phoneNumber="+447700900222")
    assert api.call("POST", START, sub="customer-6").status_code == 202


def test_at_most_ten_wrong_codes_a_day(api: UserApi, clock: FixedClock) -> None:
    api.create_profile()
    for _ in range(2):
        api.call("POST", START)
        code = api.last_code()
        for _ in range(5):
            assert api.call("POST", CONFIRM, json={"code": _wrong(code)}).status_code in (422, 429)
        clock.advance(timedelta(seconds=30))
    assert api.call("POST", START).status_code == 202
    r = api.call("POST", CONFIRM, json={"code": api.last_code()})  # even the right code: guessing is over
    assert r.status_code == 429, r.text
    error = r.json()["error"]
    assert (error["type"], error["field"]) == ("TooManyRequests", "code")
    assert error["info"] == {"retryAfterSeconds": 24 * 3600 - 2 * 30}
    assert api.call("GET", "/v1/profile").json()["phoneVerified"] is False
