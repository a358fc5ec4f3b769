"""End to end through the FastAPI app with signed requests: applications."""

from __future__ import annotations

from datetime import timedelta

import pytest
from bnpl_common.clock import FixedClock
from bnpl_common.service_auth import USER_TOKEN_HEADER
from bnpl_common.testing import TokenMinter
from bnpl_credit.scoring.port import ScorerError
from bnpl_credit.settings import Settings
from bnpl_credit.testing import (
    Api,
    FakeScorer,
    application_body,
    count_rows,
    make_order,
    make_profile,
    new_key,
    score_result,
)
from fastapi.testclient import TestClient


def test_approve_returns_credit_application(api: Api, scorer: FakeScorer, settings: Settings) -> None:
    r = api.apply(order=make_order(merchantId="m-9", orderReference="o-1"))
    assert r.status_code == 201, r.text
    app = r.json()
    assert app["status"] == "APPROVED"
    assert app["amount"] == {"amount": 20_000, "currency": "EUR"}
    assert app["merchantId"] == "m-9" and app["orderReference"] == "o-1" and app["planType"] == "PAY_IN_4"
    assert app["riskGrade"] == "A" and app["score"] == 600 and app["pd"] == 0.05
    assert app["modelVersion"] == "test-model-1" and app["policyVersion"] == "policy-2026-11-30"
    assert app["expiresAt"].startswith("2026-11-02T10:30:00") and app["planId"] is None
    assert [i["amount"]["amount"] for i in app["offer"]["installments"]] == [5000] * 4
    assert app["offer"]["apr"] == 0.0 and app["offer"]["aprBasisPoints"] == 0
    assert {"code", "description"} == set(app["reasons"][0])
    assert "customerId" not in app
    # features sent to the model are exactly the model's columns
    assert set(scorer.calls[0]) == {
        "Seniority", "Home", "Time", "Age", "Records", "Job", "Expenses", "Income", "Assets", "Debt", "Amount", "Price"
    }  # fmt: skip
    assert count_rows(settings.credit_db_path, "decisions") == 1
    assert api.request("GET", f"/v1/applications/{app['id']}").json() == app


def test_decision_record_is_stored_and_immutable(api: Api, settings: Settings) -> None:
    import json
    import sqlite3

    app = api.approved()
    conn = sqlite3.connect(settings.credit_db_path)
    record = json.loads(conn.execute("SELECT record FROM decisions").fetchone()[0])
    assert record["featureMappingVersion"] and record["policyVersion"] == "policy-2026-11-30"
    assert record["score"]["model_version"] == "test-model-1" and record["features"]["Home"] == "owner"
    assert record["profile"]["id"] == api.sub and record["order"]["amount"]["amount"] == 20_000
    with pytest.raises(sqlite3.DatabaseError):
        conn.execute("UPDATE decisions SET record = '{}' WHERE application_id = ?", (app["id"],))
    conn.close()


def test_risk_decline_gives_the_models_reasons(api: Api, scorer: FakeScorer) -> None:
    scorer.result = score_result(pd=0.6, grade="E")
    app = api.apply().json()
    assert app["status"] == "DECLINED" and app["offer"] is None and app["expiresAt"] is None
    codes = [r["code"] for r in app["reasons"]]
    assert codes and all(c.startswith("R_") for c in codes) and len(codes) <= 4


def test_affordability_decline(api: Api) -> None:
    app = api.apply(
        order=make_order(amount={"amount": 100_000, "currency": "EUR"}),
        monthlyIncome={"amount": 150_000, "currency": "EUR"},
        monthlyExpenses={"amount": 100_000, "currency": "EUR"},
    ).json()
    assert app["status"] == "DECLINED" and app["reasons"][0]["code"] == "AFFORDABILITY"


def test_scorer_down_refers(api: Api, scorer: FakeScorer) -> None:
    scorer.error = ScorerError("down")
    r = api.apply()
    assert r.status_code == 201
    assert r.json()["status"] == "REFERRED"
    assert r.json()["reasons"] == [
        {
            "code": "SCORER_UNAVAILABLE",
            "description": "We could not complete an automatic decision; your application will be reviewed.",
        }
    ]


def test_slow_scorer_refers_within_timeout(api: Api, scorer: FakeScorer) -> None:
    import time

    scorer.delay = 3.0
    started = time.perf_counter()
    r = api.apply()
    assert r.json()["status"] == "REFERRED" and time.perf_counter() - started < 1.5


def test_idempotent_retry_returns_first_response(api: Api, scorer: FakeScorer, settings: Settings) -> None:
    key, order = new_key(), make_order()
    first = api.apply(key=key, order=order)
    scorer.result = score_result(pd=0.9, grade="E")  # a new decision would differ
    second = api.apply(key=key, order=order)
    assert second.status_code == 201 and second.json() == first.json()
    assert count_rows(settings.credit_db_path, "applications") == 1 and len(scorer.calls) == 1


def test_idempotent_retry_of_referral(api: Api, scorer: FakeScorer) -> None:
    scorer.error = ScorerError("down")
    key, order = new_key(), make_order()
    first = api.apply(key=key, order=order).json()
    scorer.error = None
    assert api.apply(key=key, order=order).json() == first and first["status"] == "REFERRED"


def test_same_key_other_body_is_409(api: Api, settings: Settings) -> None:
    key = new_key()
    api.apply(key=key, order=make_order(orderReference="a"))
    r = api.apply(key=key, order=make_order(orderReference="b"))
    assert r.status_code == 409 and r.json()["error"]["type"] == "IdempotencyConflict"
    assert count_rows(settings.credit_db_path, "applications") == 1


def test_keys_are_scoped_per_customer(api: Api, other: Api) -> None:
    key = new_key()
    assert api.apply(key=key).status_code == 201
    assert other.apply(key=key).status_code == 201


def test_missing_or_bad_idempotency_key(api: Api) -> None:
    body = application_body(make_order(), make_profile(api.sub))
    r = api.request("POST", "/v1/applications", json=body)
    assert r.status_code == 422 and r.json()["error"]["field"] == "idempotencyKey"
    r = api.request("POST", "/v1/applications", json=body, key="short")
    assert r.status_code == 422


@pytest.mark.parametrize(
    "order,profile,status,etype,field",
    [
        ({"amount": {"amount": 0, "currency": "EUR"}}, {}, 422, "ValidationError", "order.amount.amount"),
        ({"amount": {"amount": -5, "currency": "EUR"}}, {}, 422, "ValidationError", "order.amount.amount"),
        ({"amount": {"amount": 10.5, "currency": "EUR"}}, {}, 422, "ValidationError", "order.amount.amount"),
        ({"amount": {"amount": "100", "currency": "EUR"}}, {}, 422, "ValidationError", "order.amount.amount"),
        ({"amount": {"amount": 999, "currency": "EUR"}}, {}, 422, "AmountOutOfRange", "order.amount.amount"),
        ({"amount": {"amount": 100_001, "currency": "EUR"}}, {}, 422, "AmountOutOfRange", "order.amount.amount"),
        (
            {"amount": {"amount": 5_000, "currency": "EUR"}, "planType": "MONTHLY_3"},
            {},
            422,
            "AmountOutOfRange",
            "order.amount.amount",
        ),
        ({"amount": {"amount": 20_000, "currency": "CHF"}}, {}, 422, "UnsupportedCurrency", "order.amount.currency"),
        ({"amount": {"amount": 20_000, "currency": "euro"}}, {}, 422, "ValidationError", "order.amount.currency"),
        ({}, {"phoneVerified": False}, 422, "PhoneNotVerified", "profile.phoneVerified"),
        (
            {"amount": {"amount": 20_000, "currency": "GBP"}},
            {},
            422,
            "CurrencyMismatch",
            "profile.monthlyIncome.currency",
        ),
        ({"planType": "PAY_IN_9"}, {}, 422, "ValidationError", "order.planType"),
        ({}, {"id": "someone-else"}, 403, "AccessDeniedException", "profile.id"),
    ],
)
def test_preconditions_store_nothing(
    api: Api, scorer: FakeScorer, settings: Settings, order: dict, profile: dict, status: int, etype: str, field: str
) -> None:
    key = new_key()
    r = api.apply(key=key, order=make_order(**order), **profile)
    assert r.status_code == status, r.text
    assert r.json()["error"]["type"] == etype and r.json()["error"]["field"] == field
    for table in ("applications", "decisions", "idempotency", "accounts", "outbox"):
        assert count_rows(settings.credit_db_path, table) == 0
    assert scorer.calls == []
    # the key was not consumed: a corrected request with it goes through
    assert api.apply(key=key).status_code == 201


def test_under_age_is_declined_not_an_error(api: Api) -> None:
    app = api.apply(dateOfBirth="2010-01-01").json()
    assert app["status"] == "DECLINED" and app["reasons"][0]["code"] == "KO_AGE"


def test_unsigned_call_is_403_and_bad_token_401(client: TestClient, api: Api, minter: TokenMinter) -> None:
    body = {"order": make_order(), "profile": make_profile(api.sub)}
    headers = {USER_TOKEN_HEADER: api.token, "Idempotency-Key": new_key()}
    r = client.post("/v1/applications", json=body, headers=headers)
    assert r.status_code == 403
    r = client.post(
        "/v1/applications",
        json=body,
        headers={**headers, USER_TOKEN_HEADER: TokenMinter().mint(api.sub)},
        auth=api.auth,
    )
    assert r.status_code == 401
    r = client.get("/v1/applications", auth=api.auth)
    assert r.status_code == 401
    r = client.get("/v1/credit-line", headers={USER_TOKEN_HEADER: minter.mint(api.sub, token_use="id")}, auth=api.auth)
    assert r.status_code == 401


def test_customer_isolation(api: Api, other: Api) -> None:
    app = api.approved()
    r = other.request("GET", f"/v1/applications/{app['id']}")
    assert r.status_code == 404 and r.json()["error"]["type"] == "ApplicationNotFound"
    assert other.request("POST", f"/v1/applications/{app['id']}/cancel").status_code == 404
    assert other.confirm(app["id"]).status_code == 404
    assert other.request("GET", "/v1/applications").json() == {"items": [], "nextToken": None}
    assert [a["id"] for a in api.request("GET", "/v1/applications").json()["items"]] == [app["id"]]


def test_pagination_newest_first(api: Api, other: Api, clock: FixedClock) -> None:
    ids = []
    for _ in range(5):
        ids.append(api.apply().json()["id"])
        clock.advance(timedelta(seconds=1))
    other.apply()
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        params = {"limit": 2} | ({"nextToken": token} if token else {})
        page = api.request("GET", "/v1/applications", params=params).json()
        seen += [a["id"] for a in page["items"]]
        pages += 1
        token = page["nextToken"]
        if not token:
            break
    assert seen == list(reversed(ids)) and pages == 3


@pytest.mark.parametrize(
    "params,field", [({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"nextToken": "!!"}, "nextToken")]
)
def test_pagination_validation(api: Api, params: dict, field: str) -> None:
    r = api.request("GET", "/v1/applications", params=params)
    assert r.status_code == 422 and r.json()["error"]["field"] == field


def test_approval_expires_after_hold(api: Api, clock: FixedClock) -> None:
    app = api.approved()
    clock.advance(timedelta(minutes=31))
    assert api.request("GET", f"/v1/applications/{app['id']}").json()["status"] == "EXPIRED"
    r = api.confirm(app["id"])
    assert r.status_code == 409 and r.json()["error"]["info"]["status"] == "EXPIRED"


def test_cancel(api: Api, scorer: FakeScorer) -> None:
    app = api.approved()
    r = api.request("POST", f"/v1/applications/{app['id']}/cancel")
    assert r.status_code == 200 and r.json()["status"] == "CANCELLED"
    assert api.request("POST", f"/v1/applications/{app['id']}/cancel").json()["status"] == "CANCELLED"
    assert api.confirm(app["id"]).status_code == 409
    scorer.result = score_result(pd=0.9, grade="E")
    declined = api.apply().json()
    r = api.request("POST", f"/v1/applications/{declined['id']}/cancel")
    assert r.status_code == 409 and r.json()["error"]["type"] == "InvalidApplicationState"


def test_readyz_and_openapi(client: TestClient) -> None:
    assert client.get("/readyz").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert "/v1/applications/{application_id}/confirm" in paths and "/v1/credit-line" in paths
