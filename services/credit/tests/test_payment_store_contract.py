"""The payment-method and collection part of the store, on both adapters (SQLite, DynamoDB on moto)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

import pytest
from bnpl_credit.collections.model import (
    InstallmentCollection,
    PaymentProfile,
    PendingRefund,
    PlanCollection,
    SavedMethod,
)
from bnpl_credit.errors import ConcurrentUpdate

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def test_a_profile_is_kept_per_customer_and_replaced(store: Any) -> None:
    asyncio.run(_profile(store))


async def _profile(store: Any) -> None:
    assert await store.get_payment_profile("cust-a") is None
    await store.save_payment_profile(PaymentProfile("cust-a", "cus_1", setups=("seti_1",)))
    method = SavedMethod("pm_1", "card", "visa", "4242", 12, 2030, NOW)
    await store.save_payment_profile(PaymentProfile("cust-a", "cus_1", method=method, setups=("seti_1",)))
    got = await store.get_payment_profile("cust-a")
    assert got == PaymentProfile("cust-a", "cus_1", method=method, setups=("seti_1",))
    assert await store.get_payment_profile("cust-b") is None  # another customer sees nothing
    replaced = SavedMethod("pm_2", "card", "mastercard", "4444", 1, 2031, NOW)
    await store.save_payment_profile(PaymentProfile("cust-a", "cus_1", method=replaced))
    again = await store.get_payment_profile("cust-a")
    assert again is not None and again.method == replaced


def test_a_collection_is_written_once_per_version(store: Any) -> None:
    asyncio.run(_collection(store))


async def _collection(store: Any) -> None:
    assert await store.get_plan_collection("plan-1") is None
    first = PlanCollection("plan-1", "cust-a").with_installment(
        InstallmentCollection(2, attempts=1, next_attempt_on=date(2026, 12, 1), last_decline="insufficient_funds")
    )
    await store.save_plan_collection(first)
    with pytest.raises(ConcurrentUpdate):
        await store.save_plan_collection(first)  # a second writer from version 0
    stored = await store.get_plan_collection("plan-1")
    assert stored is not None and stored.version == 1
    assert stored.of(2) == first.of(2) and stored.of(3) == InstallmentCollection(3)
    moved = stored.with_installment(InstallmentCollection(2, attempts=2, reminded_for=("2026-12-01",)))
    await store.save_plan_collection(moved)
    with pytest.raises(ConcurrentUpdate):
        await store.save_plan_collection(moved)  # stale version
    final = await store.get_plan_collection("plan-1")
    assert final is not None and final.version == 2 and final.of(2).reminded_for == ("2026-12-01",)


def test_a_setup_knows_its_owner_and_a_psp_event_is_marked_once(store: Any) -> None:
    asyncio.run(_webhook_records(store))


async def _webhook_records(store: Any) -> None:
    assert await store.get_setup_owner("seti_1") is None
    await store.save_setup_owner("seti_1", "cust-a")
    await store.save_setup_owner("seti_2", "cust-b")
    assert await store.get_setup_owner("seti_1") == "cust-a"
    assert await store.get_setup_owner("seti_2") == "cust-b"
    assert await store.psp_event_seen("evt_1") is False
    await store.mark_psp_event("evt_1", expires_at=1_900_000_000)
    await store.mark_psp_event("evt_1", expires_at=1_900_000_000)  # a second delivery marks nothing new
    assert await store.psp_event_seen("evt_1") is True
    assert await store.psp_event_seen("evt_2") is False


def test_a_pending_refund_is_kept_listed_replaced_and_dropped(store: Any) -> None:
    asyncio.run(_pending_refunds(store))


async def _pending_refunds(store: Any) -> None:
    assert await store.list_pending_refunds() == []
    first = PendingRefund("refund-r1-pi_1", "cust-a", "plan-1", "r1", "pay-1", "pi_1", 2_500, "EUR")
    second = PendingRefund("refund-r2-pi_2", "cust-b", "plan-2", "r2", "pay-2", "pi_2", 1_000, "GBP")
    await store.save_pending_refund(first)
    await store.save_pending_refund(second)
    await store.save_pending_refund(first)  # the same part again: still one
    assert sorted(await store.list_pending_refunds(), key=lambda p: p.key) == [first, second]
    await store.delete_pending_refund(first.key)
    assert await store.list_pending_refunds() == [second]
