"""Everything the credit service stores, as one protocol the adapters implement.

The services depend on the per-domain ports (``applications.ports``, ``plans.ports``,
``credit_line.ports``, ``events.ports``, ``idempotency``); :class:`CreditStore` is their
union, implemented by :class:`~bnpl_credit.storage.sqlite.SqliteStore` (embedded default) and
:class:`~bnpl_credit.storage.dynamodb.DynamoStore` (AWS, docker compose), which pass one
contract suite (``tests/test_store_contract.py``).
"""

from __future__ import annotations

from typing import Protocol

from bnpl_credit.applications.ports import ApplicationStore
from bnpl_credit.checkouts.ports import CheckoutStore
from bnpl_credit.collections.ports import PaymentStore
from bnpl_credit.credit_line.ports import CreditLineStore
from bnpl_credit.events.ports import OutboxStore
from bnpl_credit.idempotency import IdempotencyStore
from bnpl_credit.merchants.ports import MerchantStore
from bnpl_credit.plans.ports import PlanStore
from bnpl_credit.reviews.ports import ReviewStore
from bnpl_credit.webhooks.ports import WebhookDeliveryStore


class CreditStore(
    ApplicationStore,
    PlanStore,
    CreditLineStore,
    OutboxStore,
    IdempotencyStore,
    MerchantStore,
    CheckoutStore,
    WebhookDeliveryStore,
    ReviewStore,
    PaymentStore,
    Protocol,
):
    async def ping(self) -> bool: ...

    async def close(self) -> None: ...
