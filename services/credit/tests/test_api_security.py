"""HTTP: the fixes of the security review. One order backs one plan and a refund never guesses
the plan (H1), strict page cursors (L1), unknown fields refused (L10)."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bnpl_common.clock import FixedClock
from bnpl_common.sigv4 import SigV4Auth
from bnpl_common.testing import TEST_CLIENT_ID, TEST_POOL_ID, TokenMinter
from bnpl_credit.main import create_app
from bnpl_credit.refunds.auth import MerchantKey
from bnpl_credit.settings import LOCAL_MERCHANT_ACCESS_KEY_ID, LOCAL_MERCHANT_SECRET, Settings
from bnpl_credit.testing import Api, FakeScorer, application_body, count_rows, make_order, make_profile, new_key
from botocore.credentials import Credentials
from fastapi.testclient import TestClient

ANY_MERCHANT = SigV4Auth(Credentials(LOCAL_MERCHANT_ACCESS_KEY_ID, LOCAL_MERCHANT_SECRET), region="us-east-1")
COFFEE_KEY, COFFEE_SECRET = "AKIACOFFEESHOP000001", "coffee-shop-test-secret"
COFFEE_SHOP = SigV4Auth(Credentials(COFFEE_KEY, COFFEE_SECRET), region="us-east-1")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        bnpl_env="test",
        credit_db_path=str(tmp_path / "credit.sqlite3"),
        cognito_user_pool_id=TEST_POOL_ID,
        cognito_client_ids=[TEST_CLIENT_ID],
        scorer_timeout_seconds=0.3,
        merchant_auth_keys={
            LOCAL_MERCHANT_ACCESS_KEY_ID: MerchantKey(LOCAL_MERCHANT_SECRET, None),
            COFFEE_KEY: MerchantKey(COFFEE_SECRET, "coffee-shop"),
        },
    )


@pytest.fixture
def client(settings: Settings, minter: TokenMinter, clock: FixedClock, scorer: FakeScorer) -> Iterator[TestClient]:
    async def fetch() -> dict[str, Any]:
        return minter.jwks()

    with TestClient(create_app(settings, fetch_jwks=fetch, clock=clock, scorer=scorer)) as tc:
        yield tc


def refund(client: TestClient, body: dict[str, Any], auth: SigV4Auth = ANY_MERCHANT) -> Any:
    return client.post("/v1/merchant/refunds", json=body, headers={"Idempotency-Key": new_key()}, auth=auth)


def error(response: Any) -> dict[str, Any]:
    return response.json()["error"]  # type: ignore[no-any-return] - a JSON body is untyped


def test_the_second_applicant_for_an_order_gets_409_and_nothing_is_stored(
    api: Api, other: Api, settings: Settings
) -> None:
    order = make_order(merchantId="coffee-shop", orderReference="order-X")
    mine = api.approved(order=order)
    rows = count_rows(settings.credit_db_path, "applications"), count_rows(settings.credit_db_path, "decisions")
    r = other.apply(order=order)
    assert r.status_code == 409, r.text
    assert error(r)["type"] == "OrderAlreadyFinanced" and error(r)["field"] == "order.orderReference"
    assert "info" not in error(r)  # nothing about the holder
    assert (
        count_rows(settings.credit_db_path, "applications"),
        count_rows(settings.credit_db_path, "decisions"),
    ) == rows
    again = api.apply(order={**order, "planType": "MONTHLY_3", "amount": {"amount": 30_000, "currency": "EUR"}})
    assert again.status_code == 409 and error(again)["info"] == {"applicationId": mine["id"]}
    assert api.request("POST", f"/v1/applications/{mine['id']}/cancel").status_code == 200
    assert other.approved(order=order)["orderReference"] == "order-X"


def test_a_refund_by_order_never_picks_one_of_several_plans(api: Api, other: Api, client: TestClient) -> None:
    order = make_order(merchantId="coffee-shop", orderReference="order-Y")
    first = api.confirm(api.approved(order=order)["id"]).json()
    by_order = {"merchantId": "coffee-shop", "orderReference": "order-Y", "reason": "returned"}
    full = refund(client, {**by_order, "amount": {"amount": 20_000, "currency": "EUR"}})
    assert full.status_code == 201 and full.json()["planStatus"] == "REFUNDED"
    second = other.confirm(other.approved(order=order)["id"]).json()  # the order was free again
    r = refund(client, {**by_order, "amount": {"amount": 1_000, "currency": "EUR"}})
    assert r.status_code == 409, r.text
    assert error(r)["type"] == "AmbiguousOrder" and error(r)["field"] == "planId"
    assert other.request("GET", f"/v1/plans/{second['id']}").json()["refunded"]["amount"] == 0
    assert api.request("GET", f"/v1/plans/{first['id']}").json()["refunded"]["amount"] == 20_000
    by_plan = refund(client, {"planId": second["id"], "amount": {"amount": 1_000, "currency": "EUR"}, "reason": "x"})
    assert by_plan.status_code == 201 and by_plan.json()["planId"] == second["id"]


def test_a_merchant_bound_key_refunds_only_its_own_plans_by_plan_id(api: Api, client: TestClient) -> None:
    theirs = api.confirm(api.approved(order=make_order(merchantId="tea-shop"))["id"]).json()
    ours = api.confirm(api.approved(order=make_order(merchantId="coffee-shop"))["id"]).json()
    body = {"amount": {"amount": 1_000, "currency": "EUR"}, "reason": "returned"}
    r = refund(client, {**body, "planId": theirs["id"]}, auth=COFFEE_SHOP)
    assert r.status_code == 404 and error(r)["type"] == "PlanNotFound"
    r = refund(client, {**body, "merchantId": "tea-shop", "orderReference": theirs["orderReference"]}, COFFEE_SHOP)
    assert r.status_code == 404
    assert api.request("GET", f"/v1/plans/{theirs['id']}").json()["refunded"]["amount"] == 0
    r = refund(client, {**body, "planId": ours["id"]}, auth=COFFEE_SHOP)
    assert r.status_code == 201 and r.json()["merchantId"] == "coffee-shop"


@pytest.mark.parametrize(
    "override,field",
    [
        ({"merchantId": "coffee#shop"}, "order.merchantId"),
        ({"orderReference": "order#X"}, "order.orderReference"),
        ({"orderReference": "order\nX"}, "order.orderReference"),
        ({"merchantId": "shop\x00"}, "order.merchantId"),
        ({"orderReference": "x" * 129}, "order.orderReference"),
    ],
)
def test_order_text_without_separator_or_control_characters(api: Api, override: dict[str, str], field: str) -> None:
    r = api.apply(order=make_order(**override))
    assert r.status_code == 422 and error(r)["type"] == "ValidationError" and error(r)["field"] == field


def test_refund_by_order_refuses_the_separator(client: TestClient) -> None:
    body = {"merchantId": "a#b", "orderReference": "c", "amount": {"amount": 1, "currency": "EUR"}, "reason": "x"}
    r = refund(client, body)
    assert r.status_code == 422 and error(r)["field"] == "merchantId"


def _token(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "token",
    [
        _token([["a"], "b"]),
        _token([1, 2]),
        _token({"a": 1}),
        _token(["2026-11-02T10:00:00.000000Z"]),
        _token(["2026-11-02T10:00:00.000000Z", "not-a-uuid"]),
        _token(["yesterday", "8c6f3d1e-7a3e-4b56-9a53-1f0e8b3c2d11"]),
        _token(["2026-11-02T10:00:00", "8c6f3d1e-7a3e-4b56-9a53-1f0e8b3c2d11"]),
        _token(["2026-11-02T10:00:00.000000Z", "8c6f3d1e-7a3e-4b56-9a53-1f0e8b3c2d11", "x"]),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        _token("[" * 50),
        "A" * 201,
    ],
)
def test_a_forged_next_token_is_a_422(api: Api, token: str) -> None:
    r = api.request("GET", "/v1/applications", params={"nextToken": token})
    assert r.status_code == 422, r.text
    assert error(r) == {"type": "ValidationError", "message": "nextToken is not valid", "field": "nextToken"}


def test_a_real_next_token_still_pages(api: Api, clock: FixedClock) -> None:
    from datetime import timedelta

    for _ in range(3):
        api.approved()
        clock.advance(timedelta(seconds=1))
    page = api.request("GET", "/v1/applications", params={"limit": 2}).json()
    rest = api.request("GET", "/v1/applications", params={"limit": 2, "nextToken": page["nextToken"]}).json()
    assert len(page["items"]) == 2 and len(rest["items"]) == 1 and rest["nextToken"] is None


def test_unknown_body_fields_are_refused_naming_them(api: Api, client: TestClient) -> None:
    plan = api.confirm(api.approved()["id"]).json()
    r = api.request(
        "POST",
        f"/v1/plans/{plan['id']}/payments",
        key=new_key(),
        json={
            "amount": {"amount": 100, "currency": "EUR"},
            "extra": 1,
        },
    )
    assert r.status_code == 422 and error(r)["field"] == "extra"
    r = api.request(
        "POST",
        f"/v1/plans/{plan['id']}/payments",
        key=new_key(),
        json={
            "amount": {"amount": 100, "currency": "EUR", "cents": True},
        },
    )
    assert r.status_code == 422 and error(r)["field"] == "amount.cents"
    r = api.request("POST", "/v1/quotes", json={"amount": {"amount": 20_000, "currency": "EUR"}, "discount": 5})
    assert r.status_code == 422 and error(r)["field"] == "discount"
    r = api.apply(order={**make_order(), "promo": "FREE"})
    assert r.status_code == 422 and error(r)["field"] == "order.promo"
    body = {"order": make_order(), "profile": make_profile(api.sub), "note": "x"}
    r = api.request("POST", "/v1/applications", key=new_key(), json=body)
    assert r.status_code == 422 and error(r)["field"] == "note"
    r = refund(client, {"planId": plan["id"], "amount": {"amount": 1, "currency": "EUR"}, "reason": "x", "to": "me"})
    assert r.status_code == 422 and error(r)["field"] == "to"


def test_the_profile_snapshot_stays_lenient(api: Api) -> None:
    """The gateway sends the whole ``Customer``: fields the credit service does not use are ignored."""
    customer = make_profile(
        api.sub,
        creditLimit={"amount": 100_000, "currency": "EUR"},
        availableCredit=None,
        monthlyIncome={"amount": 300_000, "currency": "EUR", "formatted": "3,000.00"},
        somethingNew=True,
    )
    r = api.request("POST", "/v1/applications", key=new_key(), json=application_body(make_order(), customer))
    assert r.status_code == 201 and r.json()["status"] == "APPROVED"


def test_a_body_over_64_kib_is_413(api: Api, client: TestClient) -> None:
    body = {"order": make_order(), "profile": make_profile(api.sub, familyName="B" * (65 * 1024))}
    r = api.request("POST", "/v1/applications", key=new_key(), json=body)
    assert r.status_code == 413, r.text
    assert api.request("GET", "/v1/applications").json()["items"] == []
    r = client.post("/v1/merchant/refunds", content=b"x" * (65 * 1024), headers={"Idempotency-Key": new_key()})
    assert r.status_code in (403, 413)


COFFEE_ROLE = "arn:aws:iam::123456789012:role/coffee-shop-integration"


@pytest.fixture
def iam_client(settings: Settings, minter: TokenMinter, clock: FixedClock, scorer: FakeScorer) -> Iterator[TestClient]:
    """The credit service as deployed behind the merchant API (API Gateway IAM auth)."""

    async def fetch() -> dict[str, Any]:
        return minter.jwks()

    iam = settings.model_copy(
        update={"merchant_auth_mode": "apigateway-iam", "merchant_principals": {COFFEE_ROLE: "coffee-shop"}}
    )
    with TestClient(create_app(iam, fetch_jwks=fetch, clock=clock, scorer=scorer)) as tc:
        yield tc


def test_behind_api_gateway_the_merchant_is_the_verified_role(api: Api, iam_client: TestClient) -> None:
    ours = api.confirm(api.approved(order=make_order(merchantId="coffee-shop"))["id"]).json()
    theirs = api.confirm(api.approved(order=make_order(merchantId="tea-shop"))["id"]).json()
    body = {"amount": {"amount": 1_000, "currency": "EUR"}, "reason": "returned"}
    session = "arn:aws:sts::123456789012:assumed-role/coffee-shop-integration/refund-job"

    def post(plan: dict[str, Any], caller: str | None) -> Any:
        headers = {
            "Idempotency-Key": new_key(),
            "X-Bnpl-Nonce": uuid.uuid4().hex,  # merchant calls are usable once, behind API Gateway too
            **({"X-Bnpl-Caller-Arn": caller} if caller else {}),
        }
        return iam_client.post("/v1/merchant/refunds", json={**body, "planId": plan["id"]}, headers=headers)

    assert post(ours, session).status_code == 201
    assert post(theirs, session).status_code == 404  # bound to coffee-shop
    assert post(ours, "arn:aws:sts::123456789012:assumed-role/someone-else/x").status_code == 403
    assert post(ours, None).status_code == 403


def test_iam_merchant_mode_needs_principals() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="MERCHANT_PRINCIPALS"):
        Settings(merchant_auth_mode="apigateway-iam")
    s = Settings(
        merchant_auth_mode="apigateway-iam", merchant_principals=f"{COFFEE_ROLE}=coffee-shop,arn:aws:iam::1:role/psp=*"
    )
    assert s.merchant_principals == {COFFEE_ROLE: "coffee-shop", "arn:aws:iam::1:role/psp": None}
