"""One-time codes can no longer be farmed (review finding M2), end to end: the user service
sends at most five codes a day to one phone number, whoever asks, and says when to retry."""

from __future__ import annotations

import json

import pytest

from scripts.devstack import Stack
from tests.conftest import outbox_path
from tests.journey import CREATE_PROFILE, START_VERIFICATION, good_profile, phone

pytestmark = pytest.mark.e2e


def test_a_phone_number_gets_at_most_five_codes_a_day_whoever_asks(stack: Stack, new_shopper) -> None:
    victims_number = phone()
    for n in range(6):
        shopper = new_shopper()
        shopper.ok(CREATE_PROFILE, {"input": {**good_profile(phoneNumber=victims_number), "email": shopper.email}})
        body = shopper.gql(START_VERIFICATION).json()
        if n < 5:
            assert not body.get("errors"), body
            continue
        error = body["errors"][0]
        assert error["errorType"] == "TooManyRequests", error
        assert error["errorInfo"]["retryAfterSeconds"] > 23 * 3600, error
    sent = [json.loads(line) for line in outbox_path(stack).read_text().splitlines() if line.strip()]
    assert sum(m["to"] == victims_number for m in sent) == 5
