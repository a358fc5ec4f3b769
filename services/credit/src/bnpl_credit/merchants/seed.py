"""The two demo merchants ``make run`` (and the end-to-end ``Stack``) start with: created once,
kept in the credit store, their credentials written to ``local-merchants.json`` for scripts and
tests (``{"<merchantId>": {accessKeyId, secretAccessKey, webhookSecret, webhookUrl, origins}}``).
Local only: the file holds secrets and lives in the owner-only data directory."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bnpl_credit.markets.catalog import MarketCatalog
from bnpl_credit.merchants import registry
from bnpl_credit.merchants.model import Merchant
from bnpl_credit.merchants.ports import MerchantStore


@dataclass(frozen=True, slots=True)
class DemoMerchant:
    id: str
    name: str
    market: str
    currency: str
    path: str  # where the demo merchant server serves this shop


DEMO_MERCHANTS = (
    DemoMerchant("demo-shop", "Demo Shop", "EU", "EUR", ""),
    DemoMerchant("demo-books", "Demo Books", "UK", "GBP", "/books"),
)


def demo_origins(port: int) -> list[str]:
    return [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]


async def seed_demo_merchants(
    store: MerchantStore, markets: MarketCatalog, *, port: int, now: datetime
) -> dict[str, dict[str, Any]]:
    """Create the demo merchants if missing (else point them at ``port``); their credentials."""
    out: dict[str, dict[str, Any]] = {}
    for demo in DEMO_MERCHANTS:
        webhook_url = f"http://127.0.0.1:{port}{demo.path}/webhooks/bnpl"
        origins = demo_origins(port)
        merchant = await store.get_merchant(demo.id)
        if merchant is None:
            merchant = await registry.create_merchant(
                store,
                markets,
                merchant_id=demo.id,
                display_name=demo.name,
                market=demo.market,
                currency=demo.currency,
                origins=origins,
                webhook_url=webhook_url,
                now=now,
                local=True,
            )
        elif merchant.webhook_url != webhook_url or list(merchant.origins) != origins:
            merchant = await store.put_merchant(
                merchant.changed(now, webhook_url=webhook_url, origins=tuple(origins)),
                expected_version=merchant.version,
            )
        out[demo.id] = credentials(merchant, now)
    return out


def credentials(merchant: Merchant, now: datetime) -> dict[str, Any]:
    key = merchant.valid_keys(now)[0]  # the newest
    return {
        "accessKeyId": key.access_key_id,
        "secretAccessKey": key.secret_access_key,
        "webhookSecret": merchant.webhook_secret,
        "webhookUrl": merchant.webhook_url,
        "origins": list(merchant.origins),
    }
