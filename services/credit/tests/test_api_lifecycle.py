"""HTTP: merchant refunds (merchant-signed, no user token), the adverse-action notice, the
test clock control, and the EventBridge publisher."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from bnpl_common.sigv4 import SigV4Auth
from bnpl_credit.clock import OffsetFileClock
from bnpl_credit.events.relay import EventBridgePublisher
from bnpl_credit.settings import LOCAL_MERCHANT_ACCESS_KEY_ID, LOCAL_MERCHANT_SECRET, Settings
from bnpl_credit.testing import Api, FakeScorer, make_order, new_key, score_result
from botocore.credentials import Credentials
from botocore.stub import Stubber
from fastapi.testclient import TestClient

MERCHANT_AUTH = SigV4Auth(Credentials(LOCAL_MERCHANT_ACCESS_KEY_ID, LOCAL_MERCHANT_SECRET), region="us-east-1")


def merchant_refund(client: TestClient, body: dict[str, Any], key: str | None = None) -> Any:
    return client.post(
        "/v1/merchant/refunds", json=body, headers={"Idempotency-Key": key or new_key()}, auth=MERCHANT_AUTH
    )


def test_merchant_refund_over_http(api: Api, client: TestClient) -> None:
    app = api.approved(order=make_order(merchantId="shop-9", orderReference="ord-77"))
    plan = api.confirm(app["id"]).json()
    body = {
        "merchantId": "shop-9",
        "orderReference": "ord-77",
        "amount": {"amount": 5_000, "currency": "EUR"},
        "reason": "one item returned",
    }
    key = new_key()
    r = merchant_refund(client, body, key)
    assert r.status_code == 201, r.text
    assert r.json()["planId"] == plan["id"] and r.json()["amountOutstanding"]["amount"] == 10_000
    assert merchant_refund(client, body, key).json() == r.json()
    conflict = merchant_refund(client, {**body, "reason": "other"}, key)
    assert conflict.status_code == 409 and conflict.json()["error"]["type"] == "IdempotencyConflict"
    too_much = merchant_refund(client, {**body, "amount": {"amount": 15_001, "currency": "EUR"}})
    assert too_much.status_code == 422 and too_much.json()["error"]["type"] == "RefundExceedsPrincipal"
    assert too_much.json()["error"]["field"] == "amount.amount"
    neither = merchant_refund(client, {"amount": {"amount": 1, "currency": "EUR"}, "reason": "x"})
    assert neither.status_code == 422
    missing = merchant_refund(client, {**body, "orderReference": "nope"})
    assert missing.status_code == 404
    shown = api.request("GET", f"/v1/plans/{plan['id']}").json()
    assert shown["refunded"]["amount"] == 5_000 and shown["installments"][3]["refunded"]["amount"] == 5_000
    # the shopper's signature (service key) does not open the merchant route, nor the reverse
    assert client.post("/v1/merchant/refunds", json=body, auth=api.auth).status_code == 403
    r = client.get("/v1/plans", auth=MERCHANT_AUTH, headers={"X-User-Authorization": api.token})
    assert r.status_code == 403


def test_decline_has_an_adverse_action_notice(api: Api, scorer: FakeScorer) -> None:
    scorer.result = score_result(pd=0.5, grade="D")
    app = api.apply().json()
    assert app["status"] == "DECLINED"
    notice = app["notice"]
    assert notice["action"] == "DECLINED" and notice["date"] == "2026-11-02"
    assert 1 <= len(notice["reasons"]) <= 4 and notice["reasons"] == app["reasons"][:4]
    assert notice["reasons"][0]["description"] in notice["text"]
    # an EU decline: the right to a person's review, not the US ECOA notice
    assert "Equal Credit Opportunity Act" not in notice["text"] and "review" in notice["text"]
    assert api.request("GET", f"/v1/applications/{app['id']}").json()["notice"] == notice
    scorer.result = score_result(pd=0.05, grade="A")
    assert api.approved()["notice"] is None


def test_offset_clock_and_its_guard(tmp_path: Path) -> None:
    path = tmp_path / "offset"
    clock = OffsetFileClock(path)
    before = clock.now()
    path.write_text("86400")
    assert (clock.now() - before).total_seconds() >= 86400
    assert Settings(bnpl_env="test", clock_offset_file=str(path)).clock_offset_file
    with pytest.raises(ValueError, match="CLOCK_OFFSET_FILE"):
        Settings(
            bnpl_env="aws",
            clock_offset_file=str(path),
            service_auth_keys={"AKIAX": "real-secret"},
            merchant_auth_keys="AKIAM:real-merchant-secret:shop-1",
        )


def test_merchant_keys_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MERCHANT_AUTH_KEYS", "AKIA1:s1:shop-1,AKIA2:s2")
    keys = Settings().merchant_auth_keys
    assert keys["AKIA1"].merchant_id == "shop-1" and keys["AKIA2"].merchant_id is None
    monkeypatch.delenv("MERCHANT_AUTH_KEYS")
    with pytest.raises(ValueError, match="placeholder"):
        Settings(bnpl_env="aws", service_auth_keys={"AKIAX": "real-secret"})


def test_eventbridge_publisher() -> None:
    import asyncio

    import boto3

    client = boto3.client("events", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    event = {"id": "e-1", "type": "plan.activated", "source": "bnpl.credit", "occurredAt": "t", "data": {}}
    with Stubber(client) as stub:
        stub.add_response(
            "put_events",
            {"FailedEntryCount": 0, "Entries": [{"EventId": "aws-1"}]},
            {
                "Entries": [
                    {
                        "Source": "bnpl.credit",
                        "DetailType": "plan.activated",
                        "EventBusName": "bus",
                        "Detail": '{"id":"e-1","type":"plan.activated","source":"bnpl.credit","occurredAt":"t",'
                        '"data":{}}',
                    }
                ]
            },
        )
        accepted = asyncio.run(EventBridgePublisher(client, bus_name="bus").publish([event]))
    assert accepted == ["e-1"]


def test_the_lifespan_sweeper_expires_approvals(
    settings: Settings, minter: Any, clock: Any, scorer: FakeScorer, tmp_path: Path
) -> None:
    """The background sweep of a running app writes expiry back: the stored application turns
    EXPIRED and ``application.expired`` is published; the API shows EXPIRED throughout."""
    import time
    from datetime import timedelta

    from bnpl_credit.events.relay import LogPublisher
    from bnpl_credit.main import create_app
    from bnpl_credit.storage.sqlite import SqliteStore

    async def fetch() -> dict[str, Any]:
        return minter.jwks()  # type: ignore[no-any-return] - the minter's key set is untyped JSON

    fast = settings.model_copy(update={"sweep_interval_seconds": 0.05, "relay_interval_seconds": 0.05})
    store = SqliteStore(settings.credit_db_path)
    publisher = LogPublisher()
    app = create_app(fast, fetch_jwks=fetch, clock=clock, scorer=scorer, store=store, publisher=publisher)
    with TestClient(app) as client:
        api = Api(client, minter)
        approved = api.approved()
        clock.advance(timedelta(minutes=31))
        assert api.request("GET", f"/v1/applications/{approved['id']}").json()["status"] == "EXPIRED"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(e["type"] == "application.expired" for e in publisher.published):
            time.sleep(0.05)
        (event,) = [e for e in publisher.published if e["type"] == "application.expired"]
        assert event["data"]["applicationId"] == approved["id"]
        assert api.request("GET", f"/v1/applications/{approved['id']}").json()["status"] == "EXPIRED"
        confirm = api.confirm(approved["id"])
        assert confirm.status_code == 409 and confirm.json()["error"]["info"] == {"status": "EXPIRED"}
