"""Input edges on the real processes (issue 17, item 8): the caller's bad input is a clear error
naming what is wrong, nothing is stored, and the connection it came on keeps working."""

from __future__ import annotations

import json

import httpx
import pytest

from scripts.devstack import Stack
from tests.journey import APPLY, CREATE_PROFILE, ME, good_profile, order

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("body", [b'"a string"', b"42", b'{"query": "{ me { id } }", "x": "\xff"}'])
def test_a_malformed_body_is_a_400_and_the_next_request_on_the_connection_is_answered(
    stack: Stack, new_shopper, body: bytes
) -> None:
    shopper = new_shopper()
    headers = {"Authorization": shopper.token, "Content-Type": "application/json"}
    with httpx.Client(base_url=stack.url("gateway"), headers=headers, timeout=30) as client:
        refused = client.post("/graphql", content=body)
        assert refused.status_code == 400, refused.text
        assert refused.json()["errors"][0]["errorType"] == "MalformedHttpRequestException"
        after = client.post("/graphql", content=json.dumps({"query": ME}).encode())
        assert after.status_code == 200, after.text
        assert after.json()["data"] == {"me": None}


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"givenName": "\u202eecalevoL"}, "input.givenName"),
        ({"familyName": "King\r\nadmin"}, "input.familyName"),
        ({"givenName": "\u200b\u200b"}, "input.givenName"),
        ({"dateOfBirth": "2005-01-01", "employmentYears": 70}, "input.employmentYears"),
        ({"familyName": "Love\ud800lace"}, "input.familyName"),
    ],
)
def test_bad_text_and_impossible_years_are_refused_naming_the_field(
    stack: Stack, new_shopper, override: dict, field: str
) -> None:
    shopper = new_shopper()
    body = json.dumps({"query": CREATE_PROFILE, "variables": {"input": good_profile(**override)}}).encode()
    response = httpx.post(
        f"{stack.url('gateway')}/graphql",
        content=body,
        headers={"Authorization": shopper.token, "Content-Type": "application/json"},
        timeout=30,
    )
    (error,) = response.json()["errors"]
    assert error["errorType"] == "ValidationError", error
    assert error["errorInfo"]["field"] == field, error
    assert shopper.ok(ME)["me"] is None


@pytest.mark.parametrize("text", ["19850101", "1985-W01-1"])
def test_dates_appsync_refuses_are_refused(new_shopper, text: str) -> None:
    shopper = new_shopper()
    error = shopper.error(CREATE_PROFILE, {"input": good_profile(dateOfBirth=text)})
    assert error["errorType"] == "ValidationError"
    assert shopper.ok(ME)["me"] is None


@pytest.mark.parametrize("key", ["clé-de-commande-1", "order\n12345678"])
def test_a_bad_idempotency_key_is_a_validation_error_not_an_outage(new_shopper, key: str) -> None:
    shopper = new_shopper()
    shopper.ok(CREATE_PROFILE, {"input": good_profile()})
    error = shopper.error(APPLY, {"input": order(), "key": key})
    assert error["errorType"] == "ValidationError", error
    assert error["errorInfo"] == {"field": "idempotencyKey"}
