"""The gate: unsigned 403, bad token 401, nothing done; another customer's profile is 404."""

from __future__ import annotations

import pytest
from bnpl_user.testing import UserApi, profile_input

ROUTES = [
    ("GET", "/v1/profile", None),
    ("PUT", "/v1/profile", profile_input()),
    ("PATCH", "/v1/profile", {"givenName": "Eve"}),
    ("POST", "/v1/profile/phone-verification", None),
    ("POST", "/v1/profile/phone-verification/confirm", {"code": "123456"}),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_unsigned_call_is_403_and_does_nothing(api: UserApi, method: str, path: str, body: object) -> None:
    r = api.call(method, path, json=body, headers={"Idempotency-Key": "unsigned-1"}, signed=False)
    assert r.status_code == 403
    assert r.json()["error"]["type"] == "AccessDeniedException"
    assert api.call("GET", "/v1/profile").status_code == 404
    assert api.sms() == []


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_bad_token_is_401_and_does_nothing(api: UserApi, method: str, path: str, body: object) -> None:
    token = api.minter.mint("customer-a", token_use="id")
    r = api.call(method, path, json=body, headers={"Idempotency-Key": "badtoken-1"}, token=token)
    assert r.status_code == 401
    assert r.json()["error"]["type"] == "UnauthorizedException"
    assert api.call("GET", "/v1/profile").status_code == 404


def test_missing_token_is_401(api: UserApi) -> None:
    assert api.call("GET", "/v1/profile", token="").status_code == 401


def test_unsigned_invalid_body_is_403_not_422(api: UserApi) -> None:
    r = api.call("PUT", "/v1/profile", json={"givenName": ""}, signed=False)
    assert r.status_code == 403


def test_another_customers_profile_is_invisible(api: UserApi) -> None:
    assert api.create_profile(sub="customer-a").status_code == 201
    assert api.call("GET", "/v1/profile", sub="customer-b").status_code == 404
    assert api.call("PATCH", "/v1/profile", sub="customer-b", json={"givenName": "Eve"}).status_code == 404
    r = api.call("POST", "/v1/profile/phone-verification", sub="customer-b")
    assert r.status_code == 404
    assert api.sms() == []
    assert api.call("GET", "/v1/profile", sub="customer-a").json()["givenName"] == "Ada"


def test_health_and_openapi_need_no_auth(api: UserApi) -> None:
    assert api.client.get("/livez").status_code == 200
    assert api.client.get("/readyz").json() == {"status": "ok"}
    paths = api.client.get("/openapi.json").json()["paths"]
    assert set(paths) == {
        "/v1/profile",
        "/v1/profile/snapshot",
        "/v1/profile/phone-verification",
        "/v1/profile/phone-verification/confirm",
        "/v1/staff/customers",
        "/v1/staff/customers/{customer_id}/profile-views",
    }


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
@pytest.mark.parametrize("signed", [True, False])
def test_a_body_over_64_kib_is_413(api: UserApi, signed: bool) -> None:
    big = profile_input(givenName="A" * (65 * 1024))
    r = api.call("PUT", "/v1/profile", json=big, headers={"Idempotency-Key": "big-body-1"}, signed=signed)
    assert r.status_code == 413, r.text
    assert api.call("GET", "/v1/profile").status_code == 404


def test_a_replayed_signed_patch_is_refused_and_does_not_undo_a_later_change(api: UserApi) -> None:
    """Issue 17, item 6: the same signed PATCH, resent within the five-minute skew, ran again."""
    from bnpl_common.service_auth import USER_TOKEN_HEADER
    from bnpl_common.sigv4 import SigV4Auth
    from bnpl_common.testing import TEST_REGION, fake_aws_credentials

    assert api.create_profile().status_code == 201
    headers = {USER_TOKEN_HEADER: api.minter.mint("customer-a")}
    request = api.client.build_request("PATCH", "/v1/profile", json={"familyName": "Byron"}, headers=headers)
    signed = next(SigV4Auth(fake_aws_credentials(), region=TEST_REGION).auth_flow(request))
    assert api.client.send(signed).status_code == 200
    assert api.call("PATCH", "/v1/profile", json={"familyName": "King"}).status_code == 200

    replay = api.client.send(signed)
    assert replay.status_code == 403
    assert replay.json()["error"]["type"] == "AccessDeniedException"
    assert api.call("GET", "/v1/profile").json()["familyName"] == "King"
