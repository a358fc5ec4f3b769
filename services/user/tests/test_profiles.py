"""Profiles: create, read, update; validation names the field and stores nothing; idempotency."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from bnpl_common.clock import FixedClock
from bnpl_user.testing import UserApi, profile_input

# Every API test runs on both storage adapters (DynamoDB: a fresh table on the moto server).
pytestmark = pytest.mark.parametrize("store", ["sqlite", "dynamodb"], indirect=True)


def test_create_get_patch(api: UserApi) -> None:
    created = api.create_profile()
    assert created.status_code == 201, created.text
    customer = created.json()
    assert customer["id"] == "customer-a"
    assert customer["phoneVerified"] is False
    assert customer["dateOfBirth"] == "1990-12-10"
    assert customer["address"]["postalCode"] == "SW1Y 4JH"
    assert customer["monthlyIncome"] == {"amount": 350000, "currency": "GBP"}
    assert customer["createdAt"] == customer["updatedAt"]
    assert customer["createdAt"].startswith("2026-03-15T12:00:00")

    got = api.call("GET", "/v1/profile")
    assert got.status_code == 200
    assert got.json() == customer

    patched = api.call("PATCH", "/v1/profile", json={"familyName": "King", "employmentYears": 7, "email": None})
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["familyName"], body["employmentYears"], body["email"]) == ("King", 7, None)
    assert body["givenName"] == "Ada"
    assert api.call("GET", "/v1/profile").json() == body


def test_get_without_profile_is_404(api: UserApi) -> None:
    r = api.call("GET", "/v1/profile")
    assert r.status_code == 404
    assert r.json()["error"]["type"] == "ProfileNotFound"
    assert api.call("PATCH", "/v1/profile", json={"familyName": "X"}).status_code == 404


def test_second_profile_with_another_key_is_409(api: UserApi) -> None:
    assert api.create_profile(key="first-key-1").status_code == 201
    r = api.create_profile(key="second-key-2")
    assert r.status_code == 409
    assert r.json()["error"]["type"] == "ProfileExists"


def test_idempotent_retry_returns_the_first_response(api: UserApi, clock: FixedClock) -> None:
    first = api.create_profile(key="retry-key-123")
    clock.advance(timedelta(minutes=5))
    again = api.create_profile(key="retry-key-123")
    assert again.status_code == 201
    assert again.json() == first.json()
    # Still the first answer after the profile changed.
    api.call("PATCH", "/v1/profile", json={"givenName": "Augusta"})
    assert api.create_profile(key="retry-key-123").json() == first.json()


def test_same_key_other_body_is_409(api: UserApi) -> None:
    assert api.create_profile(key="reused-key-1").status_code == 201
    r = api.create_profile(key="reused-key-1", givenName="Someone")
    assert r.status_code == 409
    assert r.json()["error"]["type"] == "IdempotencyConflict"
    assert api.call("GET", "/v1/profile").json()["givenName"] == "Ada"


def test_keys_are_scoped_per_customer(api: UserApi) -> None:
    assert api.create_profile(sub="customer-a", key="shared-key-1").status_code == 201
    r = api.create_profile(sub="customer-b", key="shared-key-1", givenName="Bea")
    assert r.status_code == 201
    assert r.json()["id"] == "customer-b"


@pytest.mark.parametrize("key", [None, "short", "bad key with spaces", "x" * 129])
def test_create_needs_a_valid_idempotency_key(api: UserApi, key: str | None) -> None:
    headers = {} if key is None else {"Idempotency-Key": key}
    r = api.call("PUT", "/v1/profile", json=profile_input(), headers=headers)
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "idempotencyKey"
    assert api.call("GET", "/v1/profile").status_code == 404


def _address(**overrides: Any) -> dict[str, Any]:
    address = dict(profile_input()["address"])
    address.update(overrides)
    return address


# The clock says 2026-03-15: a customer born 2008-03-16 turns 18 tomorrow.
INVALID = [
    ({"dateOfBirth": "2026-03-16"}, "dateOfBirth"),
    ({"dateOfBirth": "2008-03-16"}, "dateOfBirth"),
    ({"dateOfBirth": "1900-01-01"}, "dateOfBirth"),
    ({"dateOfBirth": "2001-02-30"}, "dateOfBirth"),
    ({"dateOfBirth": "15/03/1990"}, "dateOfBirth"),
    ({"dateOfBirth": 631152000}, "dateOfBirth"),
    ({"givenName": ""}, "givenName"),
    ({"familyName": "x" * 101}, "familyName"),
    ({"phoneNumber": "07700900789"}, "phoneNumber"),
    ({"phoneNumber": "+44 7700 900789"}, "phoneNumber"),
    ({"phoneNumber": "+1234567"}, "phoneNumber"),
    ({"address": _address(country="UK")}, "address.country"),
    ({"address": _address(country="gb")}, "address.country"),
    ({"address": _address(postalCode="")}, "address.postalCode"),
    ({"monthlyIncome": {"amount": -1, "currency": "GBP"}}, "monthlyIncome.amount"),
    ({"monthlyIncome": {"amount": 100.5, "currency": "GBP"}}, "monthlyIncome.amount"),
    ({"debt": {"amount": 10, "currency": "XYZ"}}, "debt.currency"),
    ({"monthlyExpenses": {"amount": 10, "currency": "EUR"}}, "monthlyExpenses.currency"),
    ({"housing": "CASTLE"}, "housing"),
    ({"employment": "ASTRONAUT"}, "employment"),
    ({"employmentYears": 71}, "employmentYears"),
    ({"employmentYears": -1}, "employmentYears"),
    ({"email": "not-an-email"}, "email"),
    ({"phoneVerified": True}, "phoneVerified"),
]


@pytest.mark.parametrize(("overrides", "field"), INVALID)
def test_invalid_profile_names_the_field_and_stores_nothing(
    api: UserApi, overrides: dict[str, Any], field: str
) -> None:
    r = api.create_profile(**overrides)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["type"] == "ValidationError"
    assert error["field"] == field
    assert api.call("GET", "/v1/profile").status_code == 404
    # The key was not burnt: the corrected request with the same key succeeds.
    assert api.create_profile().status_code == 201


def test_missing_field_is_named(api: UserApi) -> None:
    body = profile_input()
    del body["monthlyIncome"]
    r = api.call("PUT", "/v1/profile", json=body, headers={"Idempotency-Key": "missing-1"})
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "monthlyIncome"


def test_exactly_eighteen_today_is_accepted(api: UserApi) -> None:
    assert api.create_profile(dateOfBirth="2008-03-15", employmentYears=4).status_code == 201


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"dateOfBirth": "2010-01-01"}, "dateOfBirth"),
        ({"givenName": None}, "givenName"),
        ({"address": {"line1": "x"}}, "address.city"),
        ({"monthlyIncome": {"amount": 1, "currency": "EUR"}}, "monthlyIncome.currency"),
        ({"assets": {"amount": -5, "currency": "GBP"}}, "assets.amount"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_invalid_patch_names_the_field_and_changes_nothing(api: UserApi, patch: dict[str, Any], field: str) -> None:
    before = api.create_profile().json()
    r = api.call("PATCH", "/v1/profile", json=patch)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field
    assert api.call("GET", "/v1/profile").json() == before


def test_patch_can_move_all_money_to_another_currency(api: UserApi) -> None:
    api.create_profile()
    eur = {name: {"amount": 100, "currency": "EUR"} for name in ("monthlyIncome", "monthlyExpenses", "assets", "debt")}
    r = api.call("PATCH", "/v1/profile", json=eur)
    assert r.status_code == 200, r.text
    assert r.json()["debt"] == {"amount": 100, "currency": "EUR"}


def test_empty_patch_returns_the_profile(api: UserApi) -> None:
    created = api.create_profile().json()
    r = api.call("PATCH", "/v1/profile", json={})
    assert r.status_code == 200
    assert r.json() == created
