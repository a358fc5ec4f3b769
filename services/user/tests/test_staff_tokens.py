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
