"""A staff token (``cognito:groups`` operations / operations-risk) acts on no profile."""

from __future__ import annotations

import pytest
from bnpl_user.testing import UserApi


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
@pytest.mark.parametrize("group", ["operations", "operations-risk"])
def test_staff_tokens_are_refused_on_every_profile_route(api: UserApi, group: str) -> None:
    assert api.create_profile(sub="staff-1").status_code == 201  # a profile exists under that sub
    token = api.minter.mint("staff-1", extra={"cognito:groups": [group]})
    for method, path in (
        ("GET", "/v1/profile"),
        ("PATCH", "/v1/profile"),
        ("PUT", "/v1/profile"),
        ("POST", "/v1/profile/phone-verification"),
        ("POST", "/v1/profile/phone-verification/confirm"),
    ):
        response = api.call(method, path, token=token, json={}, headers={"Idempotency-Key": "k-1"})
        assert response.status_code == 403, (method, path, response.text)
    assert api.call("GET", "/v1/profile", sub="staff-1").status_code == 200  # the same sub without the group


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_staff_routes_refuse_shoppers_and_the_audit_refuses_reviewers(api: UserApi) -> None:
    assert api.create_profile(sub="ana").status_code == 201
    for method, path in (
        ("GET", "/v1/staff/customers?customerId=ana"),
        ("POST", "/v1/staff/customers/ana/profile-views"),
        ("GET", "/v1/staff/customers/ana/profile-views"),
    ):
        response = api.call(method, path, sub="ana", json={"reason": "looking"})
        assert response.status_code == 403, (method, path, response.text)
    reviewer = api.minter.mint("rev-1", extra={"cognito:groups": ["operations"]})
    approver = api.minter.mint("apr-1", extra={"cognito:groups": ["operations-risk"]})
    assert api.call("GET", "/v1/staff/customers/ana/profile-views", token=reviewer).status_code == 403
    found = api.call("GET", "/v1/staff/customers?customerId=ana", token=reviewer)
    assert found.status_code == 200 and [m["customerId"] for m in found.json()["items"]] == ["ana"]
    no_reason = api.call("POST", "/v1/staff/customers/ana/profile-views", token=reviewer, json={"reason": ""})
    assert no_reason.status_code == 422
    viewed = api.call("POST", "/v1/staff/customers/ana/profile-views", token=reviewer, json={"reason": "a dispute"})
    assert viewed.status_code == 201 and viewed.json()["familyName"]
    records = api.call("GET", "/v1/staff/customers/ana/profile-views", token=approver).json()["items"]
    assert sorted(r["action"] for r in records) == ["profile.searched", "profile.viewed"]  # the clock stands still
    [viewed_record] = [r for r in records if r["action"] == "profile.viewed"]
    assert viewed_record["reason"] == "a dispute" and viewed_record["actor"] == "rev-1"
