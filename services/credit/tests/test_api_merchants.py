"""The merchant API over HTTP (the app in-process, signed calls): registry keys, scoping, replay,
idempotency, field-named errors, and the shopper's side of a session with its signed return."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from bnpl_common.clock import FixedClock
from bnpl_common.testing import TEST_CLIENT_ID, TEST_POOL_ID, TokenMinter
from bnpl_credit.main import create_app
from bnpl_credit.markets.catalog import load_catalog
from bnpl_credit.merchants import registry
from bnpl_credit.merchants.model import MerchantStatus
from bnpl_credit.merchants.seed import credentials
from bnpl_credit.settings import Settings
from bnpl_credit.storage.sqlite import SqliteStore
from bnpl_credit.testing import Api, FakeScorer, MerchantClient, checkout_body, make_profile, new_key, sign_profile
from fastapi.testclient import TestClient
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

ORIGIN = "http://127.0.0.1:8100"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        bnpl_env="test",
        credit_db_path=str(tmp_path / "credit.sqlite3"),
        cognito_user_pool_id=TEST_POOL_ID,
        cognito_client_ids=[TEST_CLIENT_ID],
        scorer_timeout_seconds=0.3,
        merchant_key_cache_seconds=0,  # a retired key is refused at once
        gateway_public_url="http://gw.test",
    )


@pytest.fixture
def registry_store(settings: Settings) -> SqliteStore:
    return SqliteStore(settings.credit_db_path)


def make_merchant(store: SqliteStore, merchant_id: str, market: str = "EU", currency: str = "EUR") -> dict[str, Any]:
    now = datetime.now(UTC)
    merchant = asyncio.run(
        registry.create_merchant(
            store,
            load_catalog(),
            merchant_id=merchant_id,
            display_name=merchant_id.title(),
            market=market,
            currency=currency,
            origins=[ORIGIN],
            webhook_url=f"{ORIGIN}/webhooks/bnpl",
            now=now,
            local=True,
        )
    )
    return credentials(merchant, now)


@pytest.fixture
def client(settings: Settings, minter: TokenMinter, clock: FixedClock, scorer: FakeScorer) -> Iterator[TestClient]:
    async def fetch() -> dict[str, Any]:
        return minter.jwks()

    with TestClient(create_app(settings, fetch_jwks=fetch, clock=clock, scorer=scorer)) as tc:
        yield tc


@pytest.fixture
def shop(client: TestClient, registry_store: SqliteStore) -> MerchantClient:
    return MerchantClient("", make_merchant(registry_store, "coffee-shop"), client=client)  # type: ignore[arg-type]


@pytest.fixture
def rival(client: TestClient, registry_store: SqliteStore) -> MerchantClient:
    return MerchantClient("", make_merchant(registry_store, "tea-shop"), client=client)  # type: ignore[arg-type]


def created(shop: MerchantClient, **overrides: Any) -> dict[str, Any]:
    response = shop.create_checkout(checkout_body(origin=ORIGIN, **overrides))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def apply_with(api: Api, token: str, plan_type: str = "PAY_IN_4", key: str | None = None) -> Any:
    profile = make_profile(api.sub)
    body = {
        "checkoutToken": token,
        "planType": plan_type,
        "profile": profile,
        "profileSignature": sign_profile(profile),
    }
    return api.request("POST", "/v1/applications", key=key or new_key(), json=body)


def authorized(shop: MerchantClient, api: Api) -> dict[str, Any]:
    session = created(shop)
    applied = apply_with(api, session["checkoutToken"])
    assert applied.status_code == 201 and applied.json()["status"] == "APPROVED", applied.text
    assert api.confirm(applied.json()["id"]).status_code == 201
    return session


def test_wrong_or_retired_keys_are_refused(
    shop: MerchantClient, client: TestClient, registry_store: SqliteStore
) -> None:
    forged = MerchantClient("", {"accessKeyId": shop.access_key_id, "secretAccessKey": "not-the-secret"}, client=client)  # type: ignore[arg-type]
    assert forged.create_checkout(checkout_body(origin=ORIGIN)).status_code == 403
    unknown = MerchantClient("", {"accessKeyId": "BNPLMKUNKNOWN0000000", "secretAccessKey": "x"}, client=client)  # type: ignore[arg-type]
    assert unknown.get("/v1/merchant/checkouts").status_code == 403
    assert client.get("/v1/merchant/checkouts").status_code == 403  # unsigned
    now = datetime.now(UTC)
    _, new = asyncio.run(registry.rotate_keys(registry_store, "coffee-shop", now=now, grace=None))
    assert shop.get("/v1/merchant/checkouts").status_code == 200  # both valid during the rotation
    asyncio.run(registry.retire_key(registry_store, "coffee-shop", shop.access_key_id, now=now))
    assert shop.get("/v1/merchant/checkouts").status_code == 403
    rotated = MerchantClient(
        "", {"accessKeyId": new.access_key_id, "secretAccessKey": new.secret_access_key}, client=client
    )  # type: ignore[arg-type]
    assert rotated.get("/v1/merchant/checkouts").status_code == 200


def test_another_merchants_checkout_is_not_found(shop: MerchantClient, rival: MerchantClient, api: Api) -> None:
    session = authorized(shop, api)
    cid = session["id"]
    assert rival.checkout(cid).status_code == 404
    assert rival.capture(cid, 1_000, "EUR").status_code == 404
    assert rival.void(cid).status_code == 404
    assert rival.refund(cid, 1_000, "EUR").status_code == 404
    assert rival.get("/v1/merchant/checkouts").json()["items"] == []
    assert shop.checkout(cid).json()["status"] == "AUTHORIZED"


def test_a_replayed_post_is_refused_and_a_resigned_retry_is_answered_alike(shop: MerchantClient) -> None:
    key, nonce = new_key(), uuid.uuid4().hex
    body = checkout_body(origin=ORIGIN)
    first = shop.request("POST", "/v1/merchant/checkouts", key=key, json=body, headers={"X-Bnpl-Nonce": nonce})
    assert first.status_code == 201
    replay = shop.request("POST", "/v1/merchant/checkouts", key=key, json=body, headers={"X-Bnpl-Nonce": nonce})
    assert replay.status_code == 403
    retry = shop.create_checkout(body, key=key)  # signed anew: a deliberate retry
    assert retry.status_code == 201 and retry.json() == first.json()
    other = shop.create_checkout({**body, "orderReference": "another"}, key=key)
    assert other.status_code in (409, 422) and other.json()["error"]["type"] == "IdempotencyConflict"
    assert len(shop.get("/v1/merchant/checkouts").json()["items"]) == 1


def test_every_post_is_idempotent(shop: MerchantClient, api: Api) -> None:
    session = authorized(shop, api)
    cid = session["id"]
    for call in (
        lambda key: shop.capture(cid, 5_000, "EUR", key=key),
        lambda key: shop.refund(cid, 1_000, "EUR", key=key),
        lambda key: shop.void(cid, key=key),
    ):
        key = new_key()
        first, again = call(key), call(key)
        assert first.status_code in (200, 201) and (again.status_code, again.json()) == (
            first.status_code,
            first.json(),
        )
    final = shop.checkout(cid).json()
    assert (final["capturedAmount"]["amount"], final["refundedAmount"]["amount"], final["voidedAmount"]["amount"]) == (
        5_000,
        1_000,
        15_000,
    )
    assert final["status"] == "PARTIALLY_REFUNDED"
    assert shop.capture(cid, 1, "EUR").status_code == 409  # nothing left to capture after the void


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"returnUrl": None}, "returnUrl"),
        ({"amount": {"amount": -5, "currency": "EUR"}}, "amount.amount"),
        ({"amount": {"amount": 100, "currency": "eur"}}, "amount.currency"),
        ({"orderReference": "a#b"}, "orderReference"),
        ({"items": [{"name": "x", "quantity": 0, "unitPrice": {"amount": 1, "currency": "EUR"}}]}, "items.0.quantity"),
        ({"cancelUrl": "https://elsewhere.example/cancel"}, "cancelUrl"),
        ({"planTypes": ["PAY_IN_4", "PAY_IN_4"]}, None),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_input_is_named_per_field(shop: MerchantClient, change: dict[str, Any], field: str | None) -> None:
    body = {k: v for k, v in {**checkout_body(origin=ORIGIN), **change}.items() if v is not None}
    response = shop.create_checkout(body)
    assert response.status_code == 422, response.text
    if field is not None:
        assert response.json()["error"]["field"] == field


def test_a_suspended_merchant_creates_nothing(shop: MerchantClient, registry_store: SqliteStore, api: Api) -> None:
    session = authorized(shop, api)
    asyncio.run(registry.set_status(registry_store, "coffee-shop", MerchantStatus.SUSPENDED, now=datetime.now(UTC)))
    assert shop.create_checkout(checkout_body(origin=ORIGIN)).status_code == 403
    assert shop.void(session["id"]).status_code == 200


def test_the_shopper_sees_the_merchants_order_and_returns_signed(
    shop: MerchantClient, api: Api, other: Api, registry_store: SqliteStore
) -> None:
    session = created(shop, amount=30_000, currency="EUR")
    token = session["checkoutToken"]
    view = api.request("GET", f"/v1/checkout-sessions/{token}")
    assert view.status_code == 200, view.text
    page = view.json()
    assert page["merchantName"] == "Coffee-Shop" and page["amount"] == {"amount": 30_000, "currency": "EUR"}
    assert {o["planType"] for o in page["offers"]} == set(session["planTypes"]) and page["merchantRedirectUrl"] is None
    assert api.request("GET", "/v1/checkout-sessions/no-such-token-at-all").status_code == 404
    # nothing the shopper sends changes the order: an order object beside the token is refused
    mixed = {"checkoutToken": token, "planType": "PAY_IN_4", "profile": make_profile(api.sub), "order": {}}
    assert api.request("POST", "/v1/applications", key=new_key(), json=mixed).status_code == 422
    applied = apply_with(api, token)
    assert applied.status_code == 201 and applied.json()["amount"]["amount"] == 30_000
    assert applied.json()["checkoutId"] == session["id"]
    assert api.request("GET", f"/v1/applications/{applied.json()['id']}").json()["checkoutId"] == session["id"]
    listed = api.request("GET", "/v1/applications").json()["items"]
    assert [a["checkoutId"] for a in listed if a["id"] == applied.json()["id"]] == [session["id"]]
    assert other.request("GET", f"/v1/checkout-sessions/{token}").status_code == 404  # another shopper's now
    assert apply_with(other, token).status_code == 404
    assert api.confirm(applied.json()["id"]).json()["status"] == "AUTHORIZED"
    page = api.request("GET", f"/v1/checkout-sessions/{token}").json()
    assert page["status"] == "AUTHORIZED"
    url = page["merchantRedirectUrl"]
    assert url.startswith(f"{ORIGIN}/orders/return?")
    q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert q["checkoutId"] == session["id"] and q["outcome"] == "AUTHORIZED"
    secret = asyncio.run(registry_store.get_merchant("coffee-shop")).webhook_secret  # type: ignore[union-attr]
    payload = json.dumps({"checkoutId": session["id"], "outcome": "AUTHORIZED"}, separators=(",", ":"), sort_keys=True)
    headers = {"webhook-id": q["webhookId"], "webhook-timestamp": q["timestamp"], "webhook-signature": q["signature"]}
    assert Webhook(secret).verify(payload, headers) == {"checkoutId": session["id"], "outcome": "AUTHORIZED"}
    forged = payload.replace(session["id"], "chk_000000000000000000000000")
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(forged, headers)


def test_legacy_refunds_use_the_registry_and_leave_checkout_plans_to_their_route(
    shop: MerchantClient, api: Api
) -> None:
    session = authorized(shop, api)
    assert shop.capture(session["id"], 20_000, "EUR").status_code == 201
    plan_id = shop.checkout(session["id"]).json()["planId"]
    body = {"planId": plan_id, "amount": {"amount": 1_000, "currency": "EUR"}, "reason": "returned"}
    refused = shop.post("/v1/merchant/refunds", body)
    assert refused.status_code == 409 and refused.json()["error"]["field"] == "planId"
    plain = api.confirm(api.approved()["id"]).json()  # a plan of merchant-1's (legacy checkout link)
    other = {"planId": plain["id"], "amount": {"amount": 1_000, "currency": "EUR"}, "reason": "returned"}
    assert shop.post("/v1/merchant/refunds", other).status_code == 404  # coffee-shop may refund only its own


def test_a_cancelled_approval_cancels_the_session_and_returns_to_the_cancel_url(shop: MerchantClient, api: Api) -> None:
    session = created(shop)
    applied = apply_with(api, session["checkoutToken"]).json()
    cancelled = api.request("POST", f"/v1/applications/{applied['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["checkoutId"] == session["id"]
    assert shop.checkout(session["id"]).json()["status"] == "CANCELLED"
    page = api.request("GET", f"/v1/checkout-sessions/{session['checkoutToken']}").json()
    assert page["status"] == "CANCELLED"
    assert (
        page["merchantRedirectUrl"].startswith(f"{ORIGIN}/orders/cancel?")
        and "outcome=CANCELLED" in page["merchantRedirectUrl"]
    )
