"""The credit service checks roles itself: staff routes need a staff group (approver routes
operations-risk), shopper routes refuse any staff token."""

from __future__ import annotations

from bnpl_common.testing import TokenMinter
from bnpl_credit.testing import Api
from fastapi.testclient import TestClient

STAFF_GETS = ["/v1/staff/reviews", "/v1/staff/reviews/case_x", "/v1/staff/review-reasons"]
APPROVER_GETS = ["/v1/staff/audit?subject=case:x"]
SHOPPER_GETS = ["/v1/applications", "/v1/plans", "/v1/credit-line", "/v1/applications/x/review"]


def _as(client: TestClient, minter: TokenMinter, groups: list[str]) -> Api:
    api = Api(client, minter)
    api.token = minter.mint(api.sub, extra={"cognito:groups": groups} if groups else None)
    return api


def test_roles_on_the_credit_routes(client: TestClient, minter: TokenMinter) -> None:
    shopper = _as(client, minter, [])
    reviewer = _as(client, minter, ["operations"])
    approver = _as(client, minter, ["operations-risk"])
    for path in STAFF_GETS + APPROVER_GETS:
        assert shopper.request("GET", path).status_code == 403, path
    for path in APPROVER_GETS:
        assert reviewer.request("GET", path).status_code == 403, path
        assert approver.request("GET", path).status_code == 200, path
    assert reviewer.request("GET", "/v1/staff/reviews").status_code == 200
    assert reviewer.request("GET", "/v1/staff/reviews/case_x").status_code == 404
    for staff in (reviewer, approver):
        for path in SHOPPER_GETS:
            assert staff.request("GET", path).status_code == 403, path
        assert staff.apply().status_code == 403
        assert staff.request("POST", "/v1/applications/x/review-requests", json={"statement": "s"}).status_code == 403
    assert (
        shopper.request(
            "POST", "/v1/staff/reviews/case_x/decisions", key="k1", json={"decision": "DECLINE"}
        ).status_code
        == 403
    )
    assert reviewer.request("POST", "/v1/staff/reviews/case_x/approvals", key="k2").status_code == 403
