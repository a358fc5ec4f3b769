"""One contract suite, run against both storage adapters (SQLite file, DynamoDB on moto),
through the real service functions: the lifecycle, idempotency, the outbox and the money
invariants, including under concurrency (20 distinct applications, 20 retries of one)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from bnpl_common.clock import FixedClock
from bnpl_common.dynamodb import from_item, to_item
from bnpl_common.errors import IdempotencyConflict
from bnpl_common.timefmt import format_instant
from bnpl_credit.applications import deciding, holds, queries
from bnpl_credit.applications.model import ApplicationStatus
from bnpl_credit.applications.ports import PageCursor
from bnpl_credit.applications.schemas import ApplicationInput
from bnpl_credit.credit_line import service as credit_lines
from bnpl_credit.decision.engine import DecisionEngine
from bnpl_credit.decision.policy import load_policy
from bnpl_credit.errors import (
    AmbiguousOrder,
    ConcurrentUpdate,
    InvalidApplicationState,
    OrderAlreadyFinanced,
    Overpayment,
)
from bnpl_credit.events.model import Event, EventType
from bnpl_credit.events.relay import LogPublisher, relay_once
from bnpl_credit.markets.catalog import load_catalog
from bnpl_credit.plans import confirm as confirming
from bnpl_credit.plans import service as plans
from bnpl_credit.plans.ledger import Plan
from bnpl_credit.plans.schemas import PaymentInput
from bnpl_credit.refunds import service as refunds
from bnpl_credit.refunds.auth import MerchantCaller
from bnpl_credit.refunds.schemas import RefundInput
from bnpl_credit.settings import PACKAGED_POLICY
from bnpl_credit.storage.dynamodb_shards import (
    CHECKOUT_DEADLINES_QUEUE,
    HELD_QUEUE,
    OPEN_PLANS_QUEUE,
    OUTBOX_QUEUE,
    SHARDS,
    merge_sorted,
    shard_page,
    shard_partition,
    shard_partitions,
)
from bnpl_credit.storage.port import CreditStore
from bnpl_credit.testing import NOW, FakeScorer, make_order, make_profile, new_key, score_result

POLICY = load_policy(PACKAGED_POLICY)
MARKETS = load_catalog()
MERCHANT = MerchantCaller("AKIAMERCHANT", None)


class Harness:
    def __init__(self, store: CreditStore, grade: str = "B") -> None:
        self.store = store
        self.clock = FixedClock(NOW)
        self.scorer = FakeScorer(result=score_result(pd=0.05, grade=grade))
        self.engine = DecisionEngine(policy=POLICY, markets=MARKETS, scorer=self.scorer, timeout_seconds=1.0)

    async def apply(self, sub: str, *, key: str | None = None, **order: Any) -> dict[str, Any]:
        body = ApplicationInput.model_validate({"order": make_order(**order), "profile": make_profile(sub)})
        stored = await deciding.apply_for_credit(
            self.store, self.engine, self.clock, sub, body=body, idempotency_key=key or new_key()
        )
        return stored.body

    async def confirm(self, sub: str, app_id: str) -> dict[str, Any]:
        stored = await confirming.confirm_application(
            self.store, MARKETS, self.clock, sub, application_id=app_id, idempotency_key=new_key()
        )
        return stored.body

    async def pay(self, sub: str, plan_id: str, amount: int, key: str | None = None) -> dict[str, Any]:
        body = PaymentInput.model_validate({"amount": {"amount": amount, "currency": "EUR"}})
        stored = await plans.make_payment(
            self.store, MARKETS, self.clock, sub, plan_id=plan_id, body=body, idempotency_key=key or new_key()
        )
        return stored.body

    async def refund(self, plan_id: str, amount: int, key: str | None = None) -> dict[str, Any]:
        body = RefundInput.model_validate(
            {"planId": plan_id, "amount": {"amount": amount, "currency": "EUR"}, "reason": "returned"}
        )
        stored = await refunds.refund(
            self.store, MARKETS, self.clock, MERCHANT, body=body, idempotency_key=key or new_key()
        )
        return stored.body

    async def plan(self, sub: str, plan_id: str) -> Plan:
        found = await self.store.get_plan(sub, plan_id)
        assert found is not None
        return found

    async def check_plan(self, sub: str, plan_id: str) -> Plan:
        plan = await self.plan(sub, plan_id)
        plan.check_invariants(await self.store.list_payments(sub, plan_id), await self.store.list_refunds(sub, plan_id))
        return plan


async def credit_line(store: CreditStore, markets: Any, sub: str, *, now: Any) -> dict[str, Any]:
    return (await credit_lines.credit_line(store, markets, sub, now=now)).to_json()


async def status_of(store: CreditStore, sub: str, application_id: str) -> ApplicationStatus | None:
    stored = await store.get_application(sub, application_id)
    return stored.status if stored is not None else None


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_apply_is_idempotent_and_sets_the_credit_line(store: CreditStore) -> None:
    async def scenario() -> None:
        h = Harness(store)
        key = new_key()
        first = await h.apply("ana", key=key, merchantId="m-1", orderReference="o-1")
        again = await h.apply("ana", key=key, merchantId="m-1", orderReference="o-1")
        assert first == again and first["status"] == "APPROVED"
        with pytest.raises(IdempotencyConflict):
            await h.apply("ana", key=key, merchantId="m-1", orderReference="o-2")
        assert len(await store.list_applications("ana", limit=10, after=None)) == 1
        assert await store.get_decision_record("ana", first["id"]) is not None
        assert await store.get_application("bob", first["id"]) is None  # another customer sees nothing
        line = await credit_line(store, MARKETS, "ana", now=h.clock.now())
        assert line["creditLimit"]["amount"] == 200_000 and line["exposure"]["amount"] == 20_000
        # a key past its TTL is forgotten
        h.clock.advance(timedelta(hours=49))
        assert await store.get_idempotent("ana", key, now=h.clock.now()) is None

    run(scenario())


def test_listing_pages_newest_first(store: CreditStore) -> None:
    async def scenario() -> None:
        h = Harness(store)
        ids = []
        for _ in range(5):
            ids.append((await h.apply("ana"))["id"])
            h.clock.advance(timedelta(seconds=1))
        page = await store.list_applications("ana", limit=3, after=None)
        assert [a.id for a in page] == ids[::-1][:3]
        rest = await store.list_applications("ana", limit=3, after=PageCursor(page[-1].created_at, page[-1].id))
        assert [a.id for a in rest] == ids[::-1][3:]

    run(scenario())


def test_newest_decline_is_found_however_many_applications_follow_it(store: CreditStore) -> None:
    async def scenario() -> None:
        h = Harness(store)
        since = h.clock.now() - timedelta(days=30)
        assert await store.newest_decline("ana", since=since) is None
        h.scorer.result = score_result(pd=0.9, grade="D")
        old = await h.apply("ana")
        h.clock.advance(timedelta(seconds=1))
        newest = await h.apply("ana")
        assert old["status"] == newest["status"] == "DECLINED"
        h.scorer.result = score_result(pd=0.05, grade="B")
        for _ in range(25):  # more than a page of approvals after it
            h.clock.advance(timedelta(seconds=1))
            assert (await h.apply("ana", amount={"amount": 1_000, "currency": "EUR"}))["status"] == "APPROVED"
        found = await store.newest_decline("ana", since=since)
        assert found is not None and found.id == newest["id"] and found.customer_id == "ana"
        # strictly after ``since``; another customer's declines are not theirs
        assert await store.newest_decline("ana", since=found.created_at) is None
        assert await store.newest_decline("bob", since=since) is None

    run(scenario())


def _holding(snapshot: Any, now: Any) -> set[str]:
    return {a.id for a in snapshot.approved_applications if a.holds_credit_at(now)}


def test_a_decisions_snapshot_sees_every_live_hold_and_nothing_else(store: CreditStore) -> None:
    """``snapshot(now=...)`` (a decision's) holds what the full read holds, once DynamoDB trusts
    its hold markers (two days after the account's first approval with markers)."""

    async def scenario() -> None:
        h = Harness(store)
        first = await h.apply("ana", amount={"amount": 10_000, "currency": "EUR"})
        assert first["status"] == "APPROVED"
        h.clock.advance(timedelta(days=3))  # the first hold ended long ago; markers are trusted
        ended = [await h.apply("ana", amount={"amount": 10_000, "currency": "EUR"}) for _ in range(3)]
        h.clock.advance(timedelta(minutes=31))  # their holds end
        live = [await h.apply("ana", amount={"amount": 10_000, "currency": "EUR"}) for _ in range(3)]
        await holds.cancel_application(store, h.clock, "ana", application_id=live[0]["id"])
        plan = await h.confirm("ana", live[1]["id"])
        assert plan["status"] == "ACTIVE"
        h.scorer.result = score_result(pd=0.25, grade="C")  # a referral holds while its case is open
        referral = await h.apply("ana", amount={"amount": 7_000, "currency": "EUR"})
        assert referral["status"] == "REFERRED"
        h.clock.advance(timedelta(days=1))  # long after any approval's hold time: still held
        now = h.clock.now()
        full, bounded = await store.snapshot("ana"), await store.snapshot("ana", now=now)
        assert _holding(bounded, now) == _holding(full, now) == {referral["id"]}
        assert not {a["id"] for a in ended} & _holding(bounded, now)
        assert bounded.account == full.account and [p.id for p in bounded.plans] == [p.id for p in full.plans]
        line = await credit_line(store, MARKETS, "ana", now=now)
        assert line["exposure"]["amount"] == 7_000 + plan["amountOutstanding"]["amount"]

    run(scenario())


def test_twenty_concurrent_applications_stay_within_the_limit_on_hold_markers(store: CreditStore) -> None:
    async def scenario() -> None:
        h = Harness(store)
        assert (await h.apply("ana", amount={"amount": 1_000, "currency": "EUR"}))["status"] == "APPROVED"
        h.clock.advance(timedelta(days=3))
        results = await asyncio.gather(
            *(h.apply("ana", amount={"amount": 30_000, "currency": "EUR"}) for _ in range(20))
        )
        approved = [r for r in results if r["status"] == "APPROVED"]
        line = await credit_line(store, MARKETS, "ana", now=h.clock.now())
        limit = line["creditLimit"]["amount"]
        assert len(approved) * 30_000 <= limit < (len(approved) + 1) * 30_000
        assert line["exposure"]["amount"] == len(approved) * 30_000

    run(scenario())


def test_a_decisions_snapshot_reads_live_holds_not_history(store: CreditStore) -> None:
    """DynamoDB filters after reading: the full read scans every application; a decision's
    reads only the markers of holds not ended and their applications."""
    if not hasattr(store, "_client"):
        pytest.skip("SQLite reads an index of approvals by customer: the end of hold filters in SQL")

    async def scenario() -> None:
        h = Harness(store)
        for _ in range(12):
            assert (await h.apply("ana", amount={"amount": 1_000, "currency": "EUR"}))["status"] == "APPROVED"
            h.clock.advance(timedelta(hours=5))  # each hold ends before the next approval
        live = await h.apply("ana", amount={"amount": 1_000, "currency": "EUR"})
        client = store._client  # type: ignore[attr-defined]  # the adapter's boto3 client
        scanned: list[int] = []
        query = client.query

        def counting(**kwargs: Any) -> Any:
            out = query(**kwargs)
            scanned.append(int(out.get("ScannedCount", 0)))
            return out

        client.query = counting
        try:
            full = await store.snapshot("ana")
            full_scanned, scanned[:] = sum(scanned), []
            bounded = await store.snapshot("ana", now=h.clock.now())
        finally:
            client.query = query
        assert {a.id for a in bounded.approved_applications} == {live["id"]}
        assert len(full.approved_applications) == 13  # never swept: still stored APPROVED
        assert full_scanned >= 13 and sum(scanned) <= 2  # one marker (plus no plans)

    run(scenario())


def test_twenty_concurrent_applications_never_exceed_the_limit(store: CreditStore) -> None:
    async def scenario() -> None:
        h = Harness(store)  # grade B: limit 2 000.00 at the first approval
        results = await asyncio.gather(
            *(h.apply("ana", amount={"amount": 30_000, "currency": "EUR"}) for _ in range(20))
        )
        approved = [r for r in results if r["status"] == "APPROVED"]
        declined = [r for r in results if r["status"] == "DECLINED"]
        assert len(approved) == 6 and len(declined) == 14  # 6 x 300.00 <= 2 000.00 < 7 x 300.00
        assert {r["reasons"][0]["code"] for r in declined} == {"CREDIT_LIMIT"}
        assert all(r["notice"]["reasons"] for r in declined)
        line = await credit_line(store, MARKETS, "ana", now=h.clock.now())
        assert line["exposure"]["amount"] == 180_000 <= line["creditLimit"]["amount"] == 200_000
        assert len(await store.list_applications("ana", limit=100, after=None)) == 20

    run(scenario())


def test_twenty_concurrent_retries_make_one_application(store: CreditStore) -> None:
    async def scenario() -> None:
        h = Harness(store)
        key = new_key()
        order = make_order()
        body = ApplicationInput.model_validate({"order": order, "profile": make_profile("ana")})
        results = await asyncio.gather(
            *(
                deciding.apply_for_credit(store, h.engine, h.clock, "ana", body=body, idempotency_key=key)
                for _ in range(20)
            )
        )
        assert len({r.body["id"] for r in results}) == 1
        assert len(await store.list_applications("ana", limit=100, after=None)) == 1
        line = await credit_line(store, MARKETS, "ana", now=h.clock.now())
        assert line["exposure"]["amount"] == 20_000

    run(scenario())


def test_pay_in_4_lifecycle_lateness_and_completion(store: CreditStore) -> None:
    async def scenario() -> None:
        h = Harness(store)
        app = await h.apply("ana", amount={"amount": 10_001, "currency": "EUR"})
        plan = await h.confirm("ana", app["id"])
        assert [i["amount"]["amount"] for i in plan["installments"]] == [2_501, 2_500, 2_500, 2_500]
        assert plan["installments"][0]["status"] == "PAID" and plan["amountOutstanding"]["amount"] == 7_500
        with pytest.raises(InvalidApplicationState):
            await h.confirm("ana", app["id"])
        stored_plan = await h.plan("ana", plan["id"])
        assert [(p.id, p.version) for p in await store.list_open_plans()] == [(stored_plan.id, stored_plan.version)]
        h.clock.advance(timedelta(days=22))  # 2nd part due +14, grace 7: late today
        assert await plans.sweep_lateness(store, MARKETS, h.clock) == 1
        assert await plans.sweep_lateness(store, MARKETS, h.clock) == 0  # marked once
        stored = await h.check_plan("ana", plan["id"])
        assert stored.installments[1].late_fee == 500 and stored.installments[1].late_on == date(2026, 11, 24)
        with pytest.raises(Overpayment):
            await h.pay("ana", plan["id"], 8_001)
        await h.pay("ana", plan["id"], 3_000)
        await h.pay("ana", plan["id"], 5_000)
        done = await h.check_plan("ana", plan["id"])
        assert done.status == "COMPLETED" and done.totals().amount_paid == 10_001 + 500
        assert await store.list_open_plans() == []

        published = LogPublisher()
        while await relay_once(store, published, h.clock):
            pass
        types = [e["type"] for e in published.published]
        for expected in ("decision.made", "plan.activated", "payment.applied", "installment.late"):
            assert expected in types
        assert len({e["id"] for e in published.published}) == len(published.published)
        assert await store.pending_events(limit=10) == []

    run(scenario())


def test_monthly_plan_refunds_partial_then_full(store: CreditStore) -> None:
    async def scenario() -> None:
        h = Harness(store)
        app = await h.apply("ana", planType="MONTHLY_6", amount={"amount": 60_000, "currency": "EUR"})
        plan = await h.confirm("ana", app["id"])
        total = plan["totalOfPayments"]["amount"]
        assert total == 60_000 + plan["financeCharge"]["amount"] and plan["installments"][0]["status"] == "DUE"
        first = plan["installments"][0]["amount"]["amount"]
        await h.pay("ana", plan["id"], first)
        partial = await h.refund(plan["id"], 20_000)
        # interest follows the money: the five installments still to come are recomputed
        assert [c["sequence"] for c in partial["credits"]] == [2, 3, 4, 5, 6]
        assert partial["returnedToShopper"]["amount"] == 0
        cancelled = (await h.check_plan("ana", plan["id"])).totals().rebated
        assert cancelled > 0  # the interest no longer earned on the 200.00 refunded
        assert partial["amountOutstanding"]["amount"] == total - first - 20_000 - cancelled
        key = new_key()
        full = await h.refund(plan["id"], 40_000, key=key)
        assert full == await h.refund(plan["id"], 40_000, key=key)  # retry: same answer
        assert full["full"] and full["planStatus"] == "REFUNDED"
        assert full["returnedToShopper"]["amount"] == first  # everything paid comes back
        done = await h.check_plan("ana", plan["id"])
        assert done.totals().amount_outstanding == 0 and done.totals().total_due == 0

    run(scenario())


def test_refund_returns_overpaid_pay_in_4(store: CreditStore) -> None:
    async def scenario() -> None:
        h = Harness(store)
        app = await h.apply("ana", amount={"amount": 10_000, "currency": "EUR"})
        plan = await h.confirm("ana", app["id"])  # 2 500 paid
        await h.pay("ana", plan["id"], 2_500)  # 5 000 paid, 5 000 owed
        out = await h.refund(plan["id"], 6_000)
        assert out["returnedToShopper"]["amount"] == 1_000 and out["planStatus"] == "COMPLETED"
        assert [c["sequence"] for c in out["credits"]] == [2, 3, 4]
        await h.check_plan("ana", plan["id"])

    run(scenario())


def test_concurrent_payments_add_up(store: CreditStore) -> None:
    async def scenario() -> None:
        h = Harness(store)
        app = await h.apply("ana", amount={"amount": 20_000, "currency": "EUR"})
        plan = await h.confirm("ana", app["id"])
        results = await asyncio.gather(*(h.pay("ana", plan["id"], 1_000) for _ in range(10)), return_exceptions=True)
        ok = [r for r in results if isinstance(r, dict)]
        assert all(isinstance(r, dict | ConcurrentUpdate) for r in results)
        stored = await h.check_plan("ana", plan["id"])
        assert stored.totals().amount_paid == 5_000 + 1_000 * len(ok)

    run(scenario())


def test_cancel_and_expiry_release_the_hold(store: CreditStore) -> None:
    async def scenario() -> None:
        h = Harness(store)
        a = await h.apply("ana", amount={"amount": 50_000, "currency": "EUR"})
        b = await h.apply("ana", amount={"amount": 50_000, "currency": "EUR"})
        cancelled = await holds.cancel_application(store, h.clock, "ana", application_id=a["id"])
        assert cancelled.status == "CANCELLED"
        line = await credit_line(store, MARKETS, "ana", now=h.clock.now())
        assert line["exposure"]["amount"] == 50_000
        h.clock.advance(timedelta(minutes=31))
        line = await credit_line(store, MARKETS, "ana", now=h.clock.now())
        assert line["exposure"]["amount"] == 0
        got = await queries.get_application(store, h.clock, "ana", application_id=b["id"])
        assert got.status == "EXPIRED"
        with pytest.raises(InvalidApplicationState):
            await h.confirm("ana", b["id"])

    run(scenario())


async def _events_of(store: CreditStore, event_type: EventType) -> list[Event]:
    return [e for e in await store.pending_events(limit=1_000) if e.type is event_type]


def test_the_sweeper_writes_expiry_back_releases_the_hold_and_announces_it(store: CreditStore) -> None:
    async def scenario() -> None:
        h = Harness(store)
        held = await h.apply("ana", amount={"amount": 50_000, "currency": "EUR"})
        confirmed = await h.apply("ana", amount={"amount": 10_000, "currency": "EUR"})
        cancelled = await h.apply("ana", amount={"amount": 10_000, "currency": "EUR"})
        plan = await h.confirm("ana", confirmed["id"])
        await holds.cancel_application(store, h.clock, "ana", application_id=cancelled["id"])
        assert await holds.expire_approvals(store, h.clock) == 0  # nothing has ended yet
        h.clock.advance(timedelta(minutes=29))
        late_comer = await h.apply("bob", amount={"amount": 10_000, "currency": "EUR"})  # holds 29 min longer
        h.clock.advance(timedelta(minutes=2))

        # before the sweep: reads already say EXPIRED, and the hold is not counted
        before = await queries.get_application(store, h.clock, "ana", application_id=held["id"])
        assert before.status == "EXPIRED"
        assert await status_of(store, "ana", held["id"]) == "APPROVED"
        line = await credit_line(store, MARKETS, "ana", now=h.clock.now())
        assert line["exposure"]["amount"] == plan["amountOutstanding"]["amount"]

        assert await holds.expire_approvals(store, h.clock) == 1
        stored = await store.get_application("ana", held["id"])
        assert stored is not None and stored.status == "EXPIRED" and stored.expires_at is not None
        after = await queries.get_application(store, h.clock, "ana", application_id=held["id"])
        assert after == before  # callers see no difference
        assert await status_of(store, "bob", late_comer["id"]) == "APPROVED"
        assert await status_of(store, "ana", confirmed["id"]) == "CONFIRMED"
        assert await status_of(store, "ana", cancelled["id"]) == "CANCELLED"
        snapshot = await store.snapshot("ana")
        assert held["id"] not in [a.id for a in snapshot.approved_applications]
        line = await credit_line(store, MARKETS, "ana", now=h.clock.now())
        assert line["exposure"]["amount"] == plan["amountOutstanding"]["amount"]

        (event,) = await _events_of(store, EventType.APPLICATION_EXPIRED)
        assert event.customer_id == "ana"
        assert event.data == {
            "applicationId": held["id"],
            "expiresAt": format_instant(stored.expires_at),
            "released": {"amount": 50_000, "currency": "EUR"},
        }
        # idempotent: a second sweep finds nothing, writes nothing
        assert await holds.expire_approvals(store, h.clock) == 0
        assert len(await _events_of(store, EventType.APPLICATION_EXPIRED)) == 1
        for attempt in (
            h.confirm("ana", held["id"]),
            holds.cancel_application(store, h.clock, "ana", application_id=held["id"]),
        ):
            with pytest.raises(InvalidApplicationState) as info:
                await attempt
            assert info.value.info == {"status": "EXPIRED"}
        # the late comer's hold ends in its turn
        h.clock.advance(timedelta(minutes=30))
        assert await holds.expire_approvals(store, h.clock) == 1
        assert await status_of(store, "bob", late_comer["id"]) == "EXPIRED"

    run(scenario())


def test_the_sweeper_pages_through_many_expired_approvals(store: CreditStore) -> None:
    async def scenario() -> None:
        h = Harness(store)
        ids = {(sub, (await h.apply(sub))["id"]) for sub in ("ana", "bob", "cy") for _ in range(2)}
        h.clock.advance(timedelta(minutes=31))
        assert len(await store.list_expired_approvals(now=h.clock.now(), limit=4)) == 4
        assert await holds.expire_approvals(store, h.clock, batch=4) == 6
        for sub, app_id in ids:
            assert await status_of(store, sub, app_id) == "EXPIRED"
        assert await store.list_expired_approvals(now=h.clock.now(), limit=10) == []

    run(scenario())


def test_a_confirm_and_an_expiry_racing_never_both_win(store: CreditStore) -> None:
    """The shopper confirms at the last moment (their clock: before the end of the hold) while
    the sweeper runs (its clock: after). Per application exactly one of them wins: a plan and
    CONFIRMED, or EXPIRED and the confirm refused."""

    async def scenario() -> None:
        h = Harness(store)
        apps = [await h.apply("ana", amount={"amount": 10_000, "currency": "EUR"}) for _ in range(6)]
        h.clock.advance(timedelta(minutes=30) - timedelta(microseconds=1))  # the last moment of the hold
        sweeper_clock = FixedClock(h.clock.now() + timedelta(seconds=1))

        async def confirm(app_id: str) -> str:
            try:
                await h.confirm("ana", app_id)
            except InvalidApplicationState:
                return "refused"
            return "confirmed"

        *outcomes, expired = await asyncio.gather(
            *(confirm(a["id"]) for a in apps), holds.expire_approvals(store, sweeper_clock, batch=2)
        )
        plans_by_app = {p.terms.application_id: p for p in await store.list_plans("ana")}
        expired_events = {e.data["applicationId"] for e in await _events_of(store, EventType.APPLICATION_EXPIRED)}
        for app, outcome in zip(apps, outcomes, strict=True):
            stored = await store.get_application("ana", app["id"])
            assert stored is not None
            if outcome == "confirmed":
                assert stored.status == "CONFIRMED" and app["id"] in plans_by_app
                assert app["id"] not in expired_events
            else:
                assert stored.status == "EXPIRED" and app["id"] not in plans_by_app
                assert app["id"] in expired_events
        assert expired == len(expired_events) == outcomes.count("refused")
        assert await holds.expire_approvals(store, sweeper_clock) == 0

    run(scenario())


# -- one merchant order backs one live approval or plan (review finding H1) -----------------


async def _refund_by_order(h: Harness, merchant: str, order: str, amount: int) -> dict[str, Any]:
    body = RefundInput.model_validate(
        {
            "merchantId": merchant,
            "orderReference": order,
            "amount": {"amount": amount, "currency": "EUR"},
            "reason": "returned",
        }
    )
    stored = await refunds.refund(h.store, MARKETS, h.clock, MERCHANT, body=body, idempotency_key=new_key())
    return stored.body


def test_an_order_backs_one_plan_and_a_full_refund_frees_it(store: CreditStore) -> None:
    async def scenario() -> None:
        h = Harness(store)
        order = {"merchantId": "coffee-shop", "orderReference": "order-X"}
        victim = await h.apply("ana", **order)
        assert victim["status"] == "APPROVED"
        # another shopper with the same order: refused, nothing stored
        with pytest.raises(OrderAlreadyFinanced) as refused:
            await h.apply("mallory", **order)
        assert refused.value.field == "order.orderReference" and refused.value.info == {}
        assert await store.list_applications("mallory", limit=10, after=None) == []
        assert await store.snapshot("mallory") == (await store.snapshot("nobody"))
        # the holder is told which of its own applications holds it
        with pytest.raises(OrderAlreadyFinanced) as own:
            await h.apply("ana", planType="MONTHLY_3", **order)
        assert own.value.info == {"applicationId": victim["id"]}
        plan = await h.confirm("ana", victim["id"])
        with pytest.raises(OrderAlreadyFinanced):
            await h.apply("mallory", **order)
        # the merchant's refund by order reaches the one plan there is
        partial = await _refund_by_order(h, "coffee-shop", "order-X", 5_000)
        assert partial["planId"] == plan["id"]
        with pytest.raises(OrderAlreadyFinanced):  # a partial refund keeps the order financed
            await h.apply("mallory", **order)
        full = await _refund_by_order(h, "coffee-shop", "order-X", 15_000)
        assert full["planStatus"] == "REFUNDED"
        # refunded in full: the order may be bought (and financed) again
        again = await h.apply("mallory", **order)
        assert again["status"] == "APPROVED"
        second = await h.confirm("mallory", again["id"])
        # now two plans carry the order: a refund by order is refused, never guessed
        with pytest.raises(AmbiguousOrder) as ambiguous:
            await _refund_by_order(h, "coffee-shop", "order-X", 1_000)
        assert ambiguous.value.status_code == 409 and ambiguous.value.field == "planId"
        assert (await h.refund(second["id"], 1_000))["planId"] == second["id"]  # by planId it works
        assert (await h.plan("ana", plan["id"])).refunded == 20_000

    run(scenario())


def test_cancel_expiry_and_the_sweeper_release_the_order_only_for_its_holder(store: CreditStore) -> None:
    async def scenario() -> None:
        h = Harness(store)
        order = {"merchantId": "shop-7", "orderReference": "A-1"}
        first = await h.apply("ana", **order)
        await holds.cancel_application(store, h.clock, "ana", application_id=first["id"])
        held = await h.apply("bob", **order)  # cancelled: free again
        assert held["status"] == "APPROVED"
        h.clock.advance(timedelta(minutes=31))  # bob's hold ended, not yet swept
        taken = await h.apply("cy", **order)
        assert taken["status"] == "APPROVED"
        assert await holds.expire_approvals(store, h.clock) == 1  # bob's: leaves cy's claim alone
        with pytest.raises(OrderAlreadyFinanced):
            await h.apply("dan", **order)
        plan = await h.confirm("cy", taken["id"])
        assert plan["orderReference"] == "A-1"
        h.clock.advance(timedelta(days=3))  # a plan's claim never lapses by time
        with pytest.raises(OrderAlreadyFinanced):
            await h.apply("dan", **order)
        # declines hold no order
        other = {"merchantId": "shop-7", "orderReference": "B-2"}
        h.scorer.result = score_result(pd=0.9, grade="D")
        assert (await h.apply("eve", **other))["status"] == "DECLINED"
        h.scorer.result = score_result(pd=0.05, grade="B")
        assert (await h.apply("fay", **other))["status"] == "APPROVED"

    run(scenario())


def test_concurrent_applicants_for_one_order_make_one_approval(store: CreditStore) -> None:
    async def scenario() -> None:
        h = Harness(store)
        order = {"merchantId": "shop-1", "orderReference": "race-1"}
        results = await asyncio.gather(*(h.apply(f"shopper-{n}", **order) for n in range(10)), return_exceptions=True)
        approved = [r for r in results if isinstance(r, dict)]
        assert len(approved) == 1 and approved[0]["status"] == "APPROVED"
        assert all(isinstance(r, OrderAlreadyFinanced) for r in results if not isinstance(r, dict))
        stored = [await store.list_applications(f"shopper-{n}", limit=5, after=None) for n in range(10)]
        assert sum(len(s) for s in stored) == 1

    run(scenario())


def test_a_retry_racing_its_first_attempt_gets_the_first_answer_not_a_409(store: CreditStore) -> None:
    """The retry read no stored answer, then the first attempt landed and claimed the order."""

    class Late:
        def __init__(self, inner: CreditStore) -> None:
            self._inner, self.misses = inner, 1

        def __getattr__(self, name: str) -> Any:
            return getattr(self._inner, name)

        async def get_idempotent(self, scope: str, key: str, *, now: Any) -> Any:
            if self.misses:
                self.misses -= 1
                return None
            return await self._inner.get_idempotent(scope, key, now=now)

    async def scenario() -> None:
        h = Harness(store)
        key = new_key()
        order = make_order()
        first = await h.apply("ana", key=key, **order)
        body = ApplicationInput.model_validate({"order": order, "profile": make_profile("ana")})
        retry = await deciding.apply_for_credit(
            Late(store),
            h.engine,
            h.clock,
            "ana",
            body=body,
            idempotency_key=key,
        )
        assert retry.body == first

    run(scenario())


def test_a_write_that_lost_to_another_transaction_is_read_and_tried_again(store: CreditStore) -> None:
    """DynamoDB reports a transaction that lost only to another one on the same items as
    ``ConcurrentUpdate`` (not as a failed condition): cancel and confirm read again and retry."""

    class Contended:
        def __init__(self, inner: CreditStore) -> None:
            self._inner, self.lost = inner, {"save_cancellation": 1, "save_confirmation": 1}

        def __getattr__(self, name: str) -> Any:
            inner = getattr(self._inner, name)
            if name not in self.lost:
                return inner

            async def once_contended(*args: Any, **kwargs: Any) -> Any:
                if self.lost[name]:
                    self.lost[name] -= 1
                    raise ConcurrentUpdate()
                return await inner(*args, **kwargs)

            return once_contended

    async def scenario() -> None:
        h = Harness(store)
        contended = Contended(store)
        to_cancel = await h.apply("ana")
        cancelled = await holds.cancel_application(contended, h.clock, "ana", application_id=to_cancel["id"])
        assert cancelled.status == "CANCELLED" and contended.lost["save_cancellation"] == 0
        to_confirm = await h.apply("ana")
        stored = await confirming.confirm_application(
            contended,
            MARKETS,
            h.clock,
            "ana",
            application_id=to_confirm["id"],
            idempotency_key=new_key(),
        )
        assert stored.body["applicationId"] == to_confirm["id"] and contended.lost["save_confirmation"] == 0
        assert [p.terms.application_id for p in await store.list_plans("ana")] == [to_confirm["id"]]

    run(scenario())


def test_early_payoff_and_withdrawal_are_stored_with_their_rebates(store: CreditStore) -> None:
    """What interest that follows the money writes (rebates, the withdrawal day) reads back the
    same, with the ledger's equations, on both adapters."""

    async def scenario() -> None:
        h = Harness(store)
        app = await h.apply("ana", planType="MONTHLY_6", amount={"amount": 60_000, "currency": "EUR"})
        plan = await h.confirm("ana", app["id"])
        h.clock.advance(timedelta(days=10))
        quote = await plans.payoff_quote(store, MARKETS, h.clock, "ana", plan_id=plan["id"])
        assert 60_000 < quote.amount.amount < plan["totalOfPayments"]["amount"]
        paid = await h.pay("ana", plan["id"], quote.amount.amount)
        assert paid["planStatus"] == "COMPLETED" and paid["interestCancelled"] == quote.rebate.model_dump()
        settled = await h.check_plan("ana", plan["id"])
        assert settled.totals().rebated == quote.rebate.amount and settled.totals().amount_outstanding == 0

        other = await h.apply("bea", planType="MONTHLY_3", amount={"amount": 30_000, "currency": "EUR"})
        second = await h.confirm("bea", other["id"])
        h.clock.advance(timedelta(days=2))
        out = await plans.withdraw(store, MARKETS, h.clock, "bea", plan_id=second["id"], idempotency_key=new_key())
        withdrawn = await h.check_plan("bea", second["id"])
        assert withdrawn.withdrawn_on == h.clock.now().date() and withdrawn.status.value == "COMPLETED"
        assert out.body["amountPaid"]["amount"] == 30_000 + out.body["interest"]["amount"]

    run(scenario())


def test_a_withdrawal_after_paying_ahead_stores_what_it_gives_back(store: CreditStore) -> None:
    """Paid ahead, then a merchant refund left less financed than was paid: withdrawing gives the
    excess back, recorded as a return of no principal; the ledger adds up on both adapters."""

    async def scenario() -> None:
        h = Harness(store)
        app = await h.apply("cleo", planType="MONTHLY_6", amount={"amount": 60_000, "currency": "EUR"})
        plan = await h.confirm("cleo", app["id"])
        assert plan["financeCharge"]["amount"] > 0
        h.clock.advance(timedelta(days=1))
        await h.pay("cleo", plan["id"], 36_000)
        await h.refund(plan["id"], 24_500)  # 355.00 still financed, 360.00 paid
        assert (await h.check_plan("cleo", plan["id"])).status.value == "ACTIVE"
        h.clock.advance(timedelta(days=4))
        out = await plans.withdraw(store, MARKETS, h.clock, "cleo", plan_id=plan["id"], idempotency_key=new_key())
        cost = 35_500 + out.body["interest"]["amount"]
        assert out.body["amountPaid"]["amount"] == 0 and out.body["returnedToShopper"]["amount"] == 36_000 - cost
        withdrawn = await h.check_plan("cleo", plan["id"])  # payments and refunds as stored
        totals = withdrawn.totals()
        assert withdrawn.status.value == "COMPLETED" and totals.amount_paid == cost
        assert totals.returned_to_shopper >= 36_000 - cost
        returns = [r for r in await store.list_refunds("cleo", plan["id"]) if r.amount == 0]
        assert [(r.returned_to_shopper, r.by) for r in returns] == [(36_000 - cost, "shopper")]

    run(scenario())


def test_the_accepted_document_is_stored_with_the_plan(store: CreditStore, tmp_path: Path) -> None:
    async def scenario() -> None:
        from bnpl_credit.applications.disclosure import Documents, pre_contract
        from bnpl_credit.disclosures.settings import DocumentSettings, document_renderer, document_store

        h = Harness(store)
        settings = DocumentSettings(bnpl_env="test", documents_dir=str(tmp_path / "documents"))
        docs = Documents(document_renderer(settings), document_store(settings, h.clock), settings.link_ttl)
        app = await h.apply("ana", planType="MONTHLY_3", amount={"amount": 30_000, "currency": "EUR"})
        pc = await pre_contract(store, docs, MARKETS, "ana", application_id=app["id"], today=h.clock.now().date())
        stored = await confirming.confirm_application(
            store,
            MARKETS,
            h.clock,
            "ana",
            application_id=app["id"],
            idempotency_key=new_key(),
            documents=docs,
            accepted_document_hash=pc.pdf_sha256,
        )
        plan = await h.check_plan("ana", stored.body["id"])
        (kept,) = plan.terms.documents
        assert kept.pdf_sha256 == pc.pdf_sha256 and kept.pdf_key == f"applications/{app['id']}/pre-contract.pdf"

    run(scenario())


# -- the outbox across partitions (DynamoDB shards it, SQLite has one table) ---------------
def test_pending_events_are_the_oldest_first_whatever_their_shard(store: CreditStore) -> None:
    async def scenario() -> None:
        h = Harness(store)
        for n in range(12):
            await h.apply(f"shopper-{n}")
            h.clock.advance(timedelta(seconds=1))
        pending = await store.pending_events(limit=1_000)
        assert len(pending) >= 12
        times = [e.occurred_at for e in pending]
        assert times == sorted(times)
        first = await store.pending_events(limit=5)
        assert [e.id for e in first] == [e.id for e in pending[:5]]
        await store.mark_published([e.id for e in first], published_at=h.clock.now())
        rest = await store.pending_events(limit=1_000)
        assert [e.id for e in rest] == [e.id for e in pending[5:]]

    asyncio.run(scenario())


# -- the sweepers' queues across partitions (DynamoDB shards HELD and OPENPLAN, SQLite has tables) --
def _gsi3_partition(store: CreditStore, pk: str, sk: str) -> str | None:
    """The GSI3 partition key of a stored item (DynamoDB), None when it is in no queue."""
    client, table = store._client, store.table  # type: ignore[attr-defined]  # the DynamoDB adapter's
    item = client.get_item(TableName=table, Key=to_item({"PK": pk, "SK": sk}), ConsistentRead=True)["Item"]
    partition = from_item(item).get("GSI3PK")
    return str(partition) if partition is not None else None


def _write_unsharded(store: CreditStore, pk: str, sk: str, partition: str) -> None:
    """Put a stored item back as the code before the sharding wrote it: under the single key."""
    client, table = store._client, store.table  # type: ignore[attr-defined]  # the DynamoDB adapter's
    item = client.get_item(TableName=table, Key=to_item({"PK": pk, "SK": sk}), ConsistentRead=True)["Item"]
    client.put_item(TableName=table, Item={**item, "GSI3PK": {"S": partition}})


def test_every_queue_spreads_over_the_shards_and_the_merge_keeps_the_order() -> None:
    for queue in (OUTBOX_QUEUE, HELD_QUEUE, OPEN_PLANS_QUEUE, CHECKOUT_DEADLINES_QUEUE):  # one hash for every queue
        partitions = {shard_partition(queue, f"id-{n}") for n in range(2_000)}
        assert partitions == set(shard_partitions(queue)) - {queue} and len(partitions) == SHARDS
    events: list[list[dict[str, Any]]] = [[{"GSI3SK": f"2026-01-0{d}#{s}"} for d in range(1, 8, 3)] for s in "abc"]
    merged = merge_sorted(events, limit=4)
    assert [r["GSI3SK"] for r in merged] == ["2026-01-01#a", "2026-01-01#b", "2026-01-01#c", "2026-01-04#a"]
    rows: list[list[dict[str, Any]]] = [[{"GSI3SK": f"{s}{n}"} for n in range(3)] for s in "ba"]
    assert [r["GSI3SK"] for r in merge_sorted(rows)] == ["a0", "a1", "a2", "b0", "b1", "b2"]
    assert [r["GSI3SK"] for r in merge_sorted(rows, limit=2)] == ["a0", "a1"]
    assert [shard_page(n) for n in (1, 8, 100, 1_000)] == [1, 1, 13, 125]  # twice an even share


def test_a_bounded_read_of_a_queue_reads_about_its_limit_not_its_limit_from_every_shard(store: CreditStore) -> None:
    if not hasattr(store, "_client"):
        pytest.skip("SQLite reads with LIMIT: no shards")

    async def scenario() -> None:
        h = Harness(store)
        for n in range(48):
            await h.apply(f"shopper-{n}")
        h.clock.advance(timedelta(minutes=31))
        everything = await store.list_expired_approvals(now=h.clock.now(), limit=100)
        assert len(everything) == 48
        client = store._client  # type: ignore[attr-defined]  # the adapter's boto3 client
        read: list[int] = []
        query = client.query

        def counting(**kwargs: Any) -> Any:
            out = query(**kwargs)
            read.append(int(out["Count"]))
            return out

        client.query = counting
        try:
            first = await store.list_expired_approvals(now=h.clock.now(), limit=8)
        finally:
            client.query = query
        assert [a.id for a in first] == [a.id for a in everything[:8]]
        # a page of one per shard (17 queries), then one more for each of the 8 taken: not all 48
        assert sum(read) <= 8 + 17 and len(read) <= 17 + 8

    run(scenario())


def test_held_approvals_and_open_plans_land_in_many_shards(store: CreditStore) -> None:
    if not hasattr(store, "_client"):
        pytest.skip("SQLite keeps approvals and plans in tables: no partitions")

    async def scenario() -> None:
        h = Harness(store)
        held = [(f"held-{n}", (await h.apply(f"held-{n}"))["id"]) for n in range(8)]
        planned = []
        for n in range(8):
            app = await h.apply(f"plan-{n}")
            planned.append((f"plan-{n}", app["id"], (await h.confirm(f"plan-{n}", app["id"]))["id"]))
        held_in = {_gsi3_partition(store, f"CUST#{sub}", f"APP#{app_id}") for sub, app_id in held}
        assert held_in <= set(shard_partitions(HELD_QUEUE)[1:]) and len(held_in) > 1
        open_in = {_gsi3_partition(store, f"CUST#{sub}", f"PLAN#{plan_id}") for sub, _, plan_id in planned}
        assert open_in <= set(shard_partitions(OPEN_PLANS_QUEUE)[1:]) and len(open_in) > 1
        # a confirmed application left the expiry queue
        assert {_gsi3_partition(store, f"CUST#{sub}", f"APP#{app_id}") for sub, app_id, _ in planned} == {None}
        # the readers find every shard's items: the plans in id order, as one partition gave them
        assert [p.id for p in await store.list_open_plans()] == sorted(plan_id for _, _, plan_id in planned)
        h.clock.advance(timedelta(minutes=31))
        due = await store.list_expired_approvals(now=h.clock.now(), limit=100)
        assert {a.id for a in due} == {app_id for _, app_id in held}

    run(scenario())


def test_the_sweepers_read_the_unsharded_keys_until_they_drain(store: CreditStore) -> None:
    if not hasattr(store, "_client"):
        pytest.skip("SQLite has no partitions: nothing was written before the sharding")

    async def scenario() -> None:
        h = Harness(store)
        old_app = (await h.apply("ana"))["id"]
        h.clock.advance(timedelta(minutes=1))
        new_app = (await h.apply("bob"))["id"]
        old_plan = await h.confirm("cy", (await h.apply("cy"))["id"])
        new_plan = await h.confirm("dan", (await h.apply("dan"))["id"])
        _write_unsharded(store, "CUST#ana", f"APP#{old_app}", "HELD")
        _write_unsharded(store, "CUST#cy", f"PLAN#{old_plan['id']}", "OPENPLAN")

        assert [p.id for p in await store.list_open_plans()] == sorted([old_plan["id"], new_plan["id"]])
        await h.pay("cy", old_plan["id"], 2_500)  # a plan still ACTIVE moves to its shard
        moved = _gsi3_partition(store, "CUST#cy", f"PLAN#{old_plan['id']}")
        assert moved == shard_partition(OPEN_PLANS_QUEUE, old_plan["id"])
        await h.pay("cy", old_plan["id"], (await h.plan("cy", old_plan["id"])).totals().amount_outstanding)
        assert _gsi3_partition(store, "CUST#cy", f"PLAN#{old_plan['id']}") is None  # COMPLETED: out of the queue
        assert [p.id for p in await store.list_open_plans()] == [new_plan["id"]]

        h.clock.advance(timedelta(minutes=31))
        due = await store.list_expired_approvals(now=h.clock.now(), limit=10)
        assert [a.id for a in due] == [old_app, new_app]  # by end of hold, the unsharded one included
        assert await holds.expire_approvals(store, h.clock) == 2
        assert _gsi3_partition(store, "CUST#ana", f"APP#{old_app}") is None  # the old key drained
        assert await store.list_expired_approvals(now=h.clock.now(), limit=10) == []

    run(scenario())


def test_the_expiry_queue_is_earliest_first_and_bounded_by_now_across_shards(store: CreditStore) -> None:
    async def scenario() -> None:
        h = Harness(store)
        apps = []  # (end of hold, id), the pairs the sweeper orders by
        for n in range(12):
            app = (await h.apply(f"shopper-{n}"))["id"]
            stored = await store.get_application(f"shopper-{n}", app)
            assert stored is not None and stored.expires_at is not None
            apps.append((stored.expires_at, app, f"shopper-{n}"))
            if n % 3 != 2:  # every third shares its end of hold with the next one: ties go by id
                h.clock.advance(timedelta(minutes=1))
        if hasattr(store, "_client"):  # two written before the sharding, the earliest among them
            for _, app, sub in apps[:1] + apps[6:7]:
                _write_unsharded(store, f"CUST#{sub}", f"APP#{app}", "HELD")
        apps.sort()
        ended = [app for expires_at, app, _ in apps if expires_at <= apps[6][0]]
        assert len(ended) >= 7  # the 7th's end of hold, and any tied with it, are due: the bound is inclusive

        due = await store.list_expired_approvals(now=apps[6][0], limit=100)
        assert [a.id for a in due] == ended
        first = await store.list_expired_approvals(now=apps[6][0], limit=4)
        assert [a.id for a in first] == ended[:4]
        just_before = await store.list_expired_approvals(now=apps[0][0] - timedelta(microseconds=1), limit=100)
        assert just_before == []
        everything = await store.list_expired_approvals(now=apps[-1][0], limit=100)
        assert [a.id for a in everything] == [app for _, app, _ in apps]

    run(scenario())
