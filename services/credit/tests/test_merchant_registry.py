"""The merchant registry on both adapters: create, find by key, rotate and retire, conditions."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from bnpl_common.errors import ValidationFailed
from bnpl_credit.markets.catalog import load_catalog
from bnpl_credit.merchants import registry
from bnpl_credit.merchants.model import MerchantStatus
from bnpl_credit.merchants.ports import MerchantConflict
from bnpl_credit.merchants.urls import check_webhook_url
from bnpl_credit.testing import NOW

MARKETS = load_catalog()


async def make(store: Any, merchant_id: str = "shop-1", **kw: Any) -> Any:
    args: dict[str, Any] = {
        "merchant_id": merchant_id,
        "display_name": "Shop One",
        "market": "EU",
        "currency": "EUR",
        "origins": ["http://127.0.0.1:8100"],
        "webhook_url": "http://127.0.0.1:8100/webhooks/bnpl",
        "now": NOW,
        "local": True,
    }
    args.update(kw)
    return await registry.create_merchant(store, MARKETS, **args)


def test_create_read_list_and_find_by_key(store: Any) -> None:
    async def body() -> None:
        created = await make(store)
        await make(store, "shop-2", market="UK", currency="GBP")
        assert created.version == 1
        found = await store.get_merchant("shop-1")
        assert found == created
        assert (await store.merchant_by_access_key(created.keys[0].access_key_id)) == created
        assert await store.merchant_by_access_key("BNPLMKNOSUCHKEY") is None
        assert [m.id for m in await store.list_merchants()] == ["shop-1", "shop-2"]
        assert found.webhook_secret.startswith("whsec_")

    asyncio.run(body())


def test_duplicate_id_and_stale_version_are_conflicts(store: Any) -> None:
    async def body() -> None:
        created = await make(store)
        with pytest.raises(MerchantConflict):
            await make(store)
        await registry.set_status(store, "shop-1", MerchantStatus.SUSPENDED, now=NOW)
        with pytest.raises(MerchantConflict):  # written against version 1, the store is at 2
            await store.put_merchant(created, expected_version=1)
        assert (await store.get_merchant("shop-1")).status is MerchantStatus.SUSPENDED

    asyncio.run(body())


def test_key_ids_are_unique_across_merchants(store: Any) -> None:
    async def body() -> None:
        first = await make(store)
        with pytest.raises(MerchantConflict):
            await make(store, "shop-2", key=first.keys[0])
        assert await store.get_merchant("shop-2") is None

    asyncio.run(body())


def test_key_rotation_keeps_both_until_retired(store: Any) -> None:
    async def body() -> None:
        created = await make(store)
        old = created.keys[0]
        rotated, new = await registry.rotate_keys(store, "shop-1", now=NOW, grace=timedelta(hours=1))
        assert {k.access_key_id for k in rotated.valid_keys(NOW)} == {old.access_key_id, new.access_key_id}
        assert rotated.key(old.access_key_id, NOW + timedelta(hours=2)) is None  # the grace ran out
        assert (await store.merchant_by_access_key(new.access_key_id)).id == "shop-1"
        retired = await registry.retire_key(store, "shop-1", old.access_key_id, now=NOW)
        assert [k.access_key_id for k in retired.keys] == [new.access_key_id]
        assert await store.merchant_by_access_key(old.access_key_id) is None
        with pytest.raises(ValidationFailed):  # never lock the merchant out
            await registry.retire_key(store, "shop-1", new.access_key_id, now=NOW)

    asyncio.run(body())


def test_webhook_secret_rotation(store: Any) -> None:
    async def body() -> None:
        created = await make(store)
        rotated, secret = await registry.rotate_webhook_secret(store, "shop-1", now=NOW, grace=None)
        assert rotated.webhook_secrets == (secret, created.webhook_secret)
        assert rotated.live_webhook_secrets(NOW + timedelta(days=30)) == rotated.webhook_secrets
        retired = await registry.retire_webhook_secret(store, "shop-1", now=NOW)
        assert retired.webhook_secrets == (secret,)
        again, _ = await registry.rotate_webhook_secret(store, "shop-1", now=NOW, grace=timedelta(minutes=5))
        assert len(again.live_webhook_secrets(NOW)) == 2
        assert len(again.live_webhook_secrets(NOW + timedelta(minutes=5))) == 1

    asyncio.run(body())


@pytest.mark.parametrize(
    ("field", "kw"),
    [
        ("merchantId", {"merchant_id": "Shop"}),
        ("merchantId", {"merchant_id": "shop\u200b1"}),
        ("merchantId", {"merchant_id": "-shop"}),
        ("merchantId", {"merchant_id": "s"}),
        ("currency", {"currency": "GBP"}),
        ("market", {"market": "FR"}),
        ("origins", {"origins": ["http://127.0.0.1:8100/path"]}),
        ("origins", {"origins": []}),
        ("webhookUrl", {"webhook_url": "ftp://example.com/x"}),
        ("webhookUrl", {"webhook_url": "http://example.com/hook"}),
    ],
)
def test_bad_merchants_are_refused_by_field(store: Any, field: str, kw: dict[str, Any]) -> None:
    async def body() -> None:
        with pytest.raises(ValidationFailed) as caught:
            await make(store, **kw)
        assert caught.value.field == field

    asyncio.run(body())


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",
        "https://127.0.0.1/hook",
        "https://10.0.0.5/hook",
        "https://169.254.169.254/latest",
        "https://[::1]/hook",
        "https://localhost/hook",
        "https://192.168.1.1:8443/hook",
    ],
)
def test_webhook_urls_in_aws_are_https_and_public(url: str) -> None:
    with pytest.raises(ValueError, match="webhookUrl"):
        check_webhook_url(url, local=False, resolve=False)


def test_webhook_url_rules_locally() -> None:
    assert check_webhook_url("http://127.0.0.1:8100/webhooks/bnpl", local=True)
    assert check_webhook_url("https://93.184.216.34/hook", local=False, resolve=False)
    with pytest.raises(ValueError):
        check_webhook_url("http://shop.example.com/hook", local=True)
