"""Input edges found by an attack on a running stack (issue 17, item 8): each is refused with a
422 naming the field, and nothing is stored."""

from __future__ import annotations

import json
from typing import Any

import pytest
from bnpl_common.sigv4 import SigV4Auth
from bnpl_common.testing import TEST_REGION, fake_aws_credentials
from bnpl_user.testing import UserApi, profile_input


def put_raw(api: UserApi, body: bytes, *, sub: str = "customer-a") -> tuple[int, Any]:
    headers = {
        "X-User-Authorization": api.minter.mint(sub),
        "Content-Type": "application/json",
        "Idempotency-Key": "raw-body-key-1",
    }
    auth = SigV4Auth(fake_aws_credentials(), region=TEST_REGION)
    response = api.client.request("PUT", "/v1/profile", content=body, headers=headers, auth=auth)
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("givenName", "Ada\x00Admin"),  # NUL
        ("givenName", "\x1b[2J\x1b[31mAda"),  # ANSI escapes repaint a terminal reading the logs
        ("familyName", "King\r\nadmin logged in"),  # CR/LF forge a log line
        ("familyName", "\u202eecalevoL"),  # right-to-left override: shown reversed
        ("givenName", "\u200b\u200b"),  # zero-width only: an empty-looking name
        ("givenName", "\u200d"),  # a joiner alone is not a name either
        ("givenName", "Ada\u2028Lovelace"),  # line separator
        ("givenName", "\ue000"),  # private use
    ],
)
def test_control_and_invisible_characters_are_refused(api: UserApi, field: str, value: str) -> None:
    r = api.create_profile(**{field: value})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field
    assert api.call("GET", "/v1/profile").status_code == 404


@pytest.mark.parametrize("field", ["line1", "line2", "city", "region", "postalCode"])
def test_address_fields_refuse_control_characters(api: UserApi, field: str) -> None:
    address = {"line1": "1 High Street", "city": "London", "postalCode": "N1 9GU", "country": "GB"}
    r = api.create_profile(address={**address, field: "N1\x1b[0m"})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == f"address.{field}"
    assert api.call("GET", "/v1/profile").status_code == 404


def test_patch_refuses_them_too_and_changes_nothing(api: UserApi) -> None:
    assert api.create_profile().status_code == 201
    r = api.call("PATCH", "/v1/profile", json={"givenName": "Ada", "familyName": "\u202eX"})
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "familyName"
    assert api.call("GET", "/v1/profile").json()["familyName"] == "Lovelace"


@pytest.mark.parametrize("name", ["Zoë", "José-María", "O'Brien", "محمد", "मनोज\u200d", "می\u200cخواهم", "李小龍"])
def test_real_names_in_any_script_are_kept(api: UserApi, name: str) -> None:
    r = api.create_profile(givenName=name)
    assert r.status_code == 201, r.text
    assert r.json()["givenName"] == name


def test_employment_years_are_bounded_by_age(api: UserApi) -> None:
    # 20 on the test clock's day (2026-03-15): at most 6 years of work since the age of 14
    r = api.create_profile(dateOfBirth="2005-06-01", employmentYears=70)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == "employmentYears"
    assert "at most 6" in r.json()["error"]["message"]
    assert api.call("GET", "/v1/profile").status_code == 404
    assert api.create_profile(dateOfBirth="2005-06-01", employmentYears=6).status_code == 201


def test_a_younger_date_of_birth_is_refused_when_the_stored_years_no_longer_fit(api: UserApi) -> None:
    assert api.create_profile(employmentYears=20).status_code == 201  # born 1990: 35
    r = api.call("PATCH", "/v1/profile", json={"dateOfBirth": "2004-01-01"})
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "dateOfBirth"
    r = api.call("PATCH", "/v1/profile", json={"employmentYears": 22})
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "employmentYears"
    assert api.call("GET", "/v1/profile").json()["employmentYears"] == 20


def test_a_body_that_is_not_utf8_is_a_422_naming_the_body(api: UserApi) -> None:
    status, body = put_raw(api, b'{"givenName": "\xff\xfe"}')
    assert status == 422
    assert body["error"] == {"type": "ValidationError", "message": "body: is not valid UTF-8 JSON", "field": "body"}


@pytest.mark.parametrize("payload", [b"[]", b'"text"', b"1", b"null"])
def test_a_body_that_is_not_an_object_is_a_422(api: UserApi, payload: bytes) -> None:
    status, body = put_raw(api, payload)
    assert status == 422
    assert body["error"]["field"] == "body"


def test_a_lone_surrogate_is_a_422_naming_the_field(api: UserApi) -> None:
    status, body = put_raw(api, json.dumps(profile_input(givenName="\ud800")).encode())
    assert status == 422
    assert body["error"]["field"] == "givenName"
    assert api.call("GET", "/v1/profile").status_code == 404


def test_every_4xx_the_routes_answer_is_declared(api: UserApi) -> None:
    spec = api.client.get("/openapi.json").json()
    for path in spec["paths"].values():
        for operation in path.values():
            assert {"401", "403", "422"} <= set(operation["responses"])
