"""Webhook deliveries on both adapters: created once per event, scoped per merchant, the due
queue per merchant, the order within a checkout, version-checked saves with idempotency."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

from bnpl_common.idempotency import StoredResponse
from bnpl_credit.idempotency import NewIdempotency
from bnpl_credit.testing import NOW
from bnpl_credit.webhooks.model import Attempt, RetryPolicy, WebhookDelivery
from bnpl_credit.webhooks.ports import DeliveryCursor

WINDOW = timedelta(hours=24)
POLICY = RetryPolicy(ceilings=(60.0,), window=WINDOW)


def delivery(merchant: str = "shop-1", checkout: str = "chk_1", *, at: timedelta = timedelta(0)) -> WebhookDelivery:
    return WebhookDelivery.new(
        event_id=str(uuid.uuid4()),
        merchant_id=merchant,
        event_type="checkout.approved",
        ordering_key=checkout,
        occurred_at=NOW + at,
        payload='{"type":"checkout.approved"}',
        now=NOW + at,
        window=WINDOW,
    )


def attempt(status: int | None, *, at: timedelta = timedelta(0)) -> Attempt:
    return Attempt(1, NOW + at, 12, status, None if status else "timeout", "http://127.0.0.1:1/hook")


def test_created_once_per_event_and_read_only_by_its_merchant(store: Any) -> None:
    async def body() -> None:
        d = delivery()
        assert await store.add_deliveries([d]) == 1
        assert await store.add_deliveries([d, delivery()]) == 1  # the first one was there already
        assert await store.get_delivery("shop-1", d.id) == d
        assert await store.get_delivery("shop-2", d.id) is None

    asyncio.run(body())


def test_listing_is_newest_first_paged_and_per_merchant(store: Any) -> None:
    async def body() -> None:
        mine = [delivery(at=timedelta(seconds=i)) for i in range(5)]
        await store.add_deliveries([*mine, delivery("shop-2")])
        first = await store.list_deliveries("shop-1", limit=3, after=None)
        assert [d.id for d in first] == [d.id for d in reversed(mine)][:3]
        rest = await store.list_deliveries("shop-1", limit=3, after=DeliveryCursor(first[-1].created_at, first[-1].id))
        assert [d.id for d in rest] == [mine[1].id, mine[0].id]
        assert len(await store.list_deliveries("shop-2", limit=10, after=None)) == 1

    asyncio.run(body())


def test_due_queue_is_per_merchant_and_holds_only_pending_due_ones(store: Any) -> None:
    async def body() -> None:
        now_due, later, done = delivery(), delivery(at=timedelta(minutes=5)), delivery()
        other = delivery("shop-2")
        await store.add_deliveries([now_due, later, done, other])
        assert await store.save_delivery(done.after_attempt(attempt(204), policy=POLICY, rng=_rng())) is True
        due = await store.due_deliveries("shop-1", now=NOW, limit=10)
        assert [d.id for d in due] == [now_due.id]
        due = await store.due_deliveries("shop-1", now=NOW + timedelta(minutes=5), limit=10)
        assert [d.id for d in due] == [now_due.id, later.id]
        assert [d.id for d in await store.due_deliveries("shop-2", now=NOW, limit=10)] == [other.id]

    asyncio.run(body())


def test_first_pending_of_a_checkout_follows_the_event_order(store: Any) -> None:
    async def body() -> None:
        first, second = delivery(), delivery(at=timedelta(seconds=1))
        await store.add_deliveries([second, first, delivery(checkout="chk_2")])
        assert (await store.first_pending("shop-1", "chk_1")).id == first.id
        assert await store.save_delivery(first.after_attempt(attempt(200), policy=POLICY, rng=_rng())) is True
        assert (await store.first_pending("shop-1", "chk_1")).id == second.id
        assert await store.first_pending("shop-2", "chk_1") is None

    asyncio.run(body())


def test_a_save_is_checked_against_the_version(store: Any) -> None:
    async def body() -> None:
        d = delivery()
        await store.add_deliveries([d])
        claimed = d.claimed(now=NOW, lease=timedelta(seconds=30))
        assert await store.save_delivery(claimed) is True
        assert await store.save_delivery(claimed) is False  # written against version 1; the store is at 2
        stored = await store.get_delivery("shop-1", d.id)
        assert stored.version == 2
        assert stored.next_attempt_at == NOW + timedelta(seconds=30)
        assert await store.due_deliveries("shop-1", now=NOW, limit=10) == []  # leased

    asyncio.run(body())


def test_a_save_with_an_idempotency_key_keeps_the_first_answer(store: Any) -> None:
    async def body() -> None:
        d = delivery()
        await store.add_deliveries([d])
        failed = d.after_attempt(attempt(500), policy=POLICY, rng=_rng())
        assert await store.save_delivery(failed) is True
        stored = await store.get_delivery("shop-1", d.id)
        record = NewIdempotency("merchant:shop-1", "key-00000001", "fp", 202, {"id": d.id}, NOW)
        assert await store.save_delivery(stored.redelivery(now=NOW, window=WINDOW), idempotency=record) is True
        again = await store.get_delivery("shop-1", d.id)
        winner = await store.save_delivery(again, idempotency=record)
        assert winner == StoredResponse("fp", 202, {"id": d.id})
        stale = NewIdempotency("merchant:shop-1", "key-00000002", "fp", 202, {}, NOW)
        assert await store.save_delivery(stored, idempotency=stale) is False  # stale: nothing written
        assert await store.get_idempotent("merchant:shop-1", "key-00000002", now=NOW) is None

    asyncio.run(body())


def _rng() -> Any:
    import random

    return random.Random(7)
