"""The merchant's webhook-delivery routes in process: signed by the merchant, scoped to it,
paged, and redelivery idempotent on its key."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from bnpl_common.clock import FixedClock
from bnpl_common.testing import TokenMinter
from bnpl_credit.main import create_app
from bnpl_credit.markets.catalog import load_catalog
from bnpl_credit.merchants import registry
from bnpl_credit.settings import Settings
from bnpl_credit.storage.sqlite import SqliteStore
from bnpl_credit.testing import NOW, FakeScorer, MerchantClient
from bnpl_credit.webhooks.model import WebhookDelivery
from fastapi.testclient import TestClient

PATH = "/v1/merchant/webhook-deliveries"


@pytest.fixture
def quiet_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"webhook_dispatcher": False})  # the routes only: nothing is sent


@pytest.fixture
def merchants(quiet_settings: Settings, minter: TokenMinter, clock: FixedClock) -> Iterator[dict[str, Any]]:
    store = SqliteStore(quiet_settings.credit_db_path)

    async def create(merchant_id: str) -> Any:
        return await registry.create_merchant(
            store,
            load_catalog(),
            merchant_id=merchant_id,
            display_name=merchant_id,
            market="EU",
            currency="EUR",
            origins=["http://127.0.0.1:8100"],
            webhook_url="http://127.0.0.1:9/hook",
            now=NOW,
            local=True,
        )

    async def fetch() -> dict[str, Any]:
        return minter.jwks()

    made = {m: asyncio.run(create(m)) for m in ("shop-a", "shop-b")}
    app = create_app(quiet_settings, fetch_jwks=fetch, clock=clock, scorer=FakeScorer())
    with TestClient(app) as tc:
        clients = {
            m: MerchantClient(
                "",
                {"accessKeyId": made[m].keys[0].access_key_id, "secretAccessKey": made[m].keys[0].secret_access_key},
                client=tc,
            )
            for m in made
        }
        yield {"store": store, **clients}


def _deliveries(store: SqliteStore, merchant_id: str, count: int) -> list[WebhookDelivery]:
    made = [
        WebhookDelivery.new(
            event_id=str(uuid.uuid4()),
            merchant_id=merchant_id,
            event_type="checkout.approved",
            ordering_key=f"chk_{i}",
            occurred_at=NOW + timedelta(seconds=i),
            payload="{}",
            now=NOW + timedelta(seconds=i),
            window=timedelta(hours=24),
        )
        for i in range(count)
    ]
    asyncio.run(store.add_deliveries(made))
    return made


def test_each_merchant_pages_through_its_own_deliveries(merchants: dict[str, Any]) -> None:
    mine = _deliveries(merchants["store"], "shop-a", 3)
    _deliveries(merchants["store"], "shop-b", 1)
    first = merchants["shop-a"].get(PATH, limit=2)
    assert first.status_code == 200, first.text
    body = first.json()
    assert [d["id"] for d in body["items"]] == [mine[2].id, mine[1].id]
    assert body["items"][0]["attempts"] == []  # none yet
    assert (body["items"][0]["status"], body["items"][0]["eventId"]) == ("PENDING", mine[2].event_id)
    rest = merchants["shop-a"].get(PATH, limit=2, nextToken=body["nextToken"]).json()
    assert [d["id"] for d in rest["items"]] == [mine[0].id] and rest["nextToken"] is None
    assert len(merchants["shop-b"].get(PATH).json()["items"]) == 1
    bad = merchants["shop-a"].get(PATH, nextToken="bm90LWEtY3Vyc29y")
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "nextToken"


def test_unsigned_or_unknown_callers_are_refused(merchants: dict[str, Any]) -> None:
    client: Any = merchants["shop-a"].client
    assert client.get(PATH).status_code == 403
    stranger = MerchantClient("", {"accessKeyId": "BNPLMKNOSUCHKEY0", "secretAccessKey": "x" * 40}, client=client)
    assert stranger.get(PATH).status_code == 403


def test_redelivery_is_scoped_and_idempotent(merchants: dict[str, Any]) -> None:
    [delivery] = _deliveries(merchants["store"], "shop-a", 1)
    path = f"{PATH}/{delivery.id}/redeliver"
    assert merchants["shop-b"].post(path, {}).status_code == 404
    missing_key = merchants["shop-a"].request("POST", path, json={})
    assert missing_key.status_code == 422 and missing_key.json()["error"]["field"] == "idempotencyKey"
    key = f"again-{uuid.uuid4().hex}"
    first = merchants["shop-a"].post(path, {}, key=key)
    assert first.status_code == 202, first.text
    assert merchants["shop-a"].post(path, {}, key=key).json() == first.json()
    stored = asyncio.run(merchants["store"].get_delivery("shop-a", delivery.id))
    assert stored.version == 2  # one redelivery written, not two
    [other] = _deliveries(merchants["store"], "shop-a", 1)
    reused = merchants["shop-a"].post(f"{PATH}/{other.id}/redeliver", {}, key=key)
    assert reused.status_code == 409
