"""Checkout sessions on both adapters (SQLite file, DynamoDB on moto), through the real service
functions: create and its refusals, apply with the token, authorize, capture, void, refund, the
sweeper, idempotency, and a capture racing a void."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from bnpl_common.clock import FixedClock
from bnpl_common.dynamodb import from_item, to_item
from bnpl_common.errors import AppError, IdempotencyConflict
from bnpl_credit.applications.schemas import ProfileSnapshot
from bnpl_credit.checkouts import service, shopper
from bnpl_credit.checkouts.config import CheckoutConfig
from bnpl_credit.checkouts.model import CheckoutNotFound, InvalidCheckoutState
from bnpl_credit.checkouts.schemas import CaptureInput, CheckoutInput, CheckoutRefundInput
from bnpl_credit.credit_line import service as credit_lines
from bnpl_credit.decision.engine import DecisionEngine
from bnpl_credit.decision.policy import load_policy
from bnpl_credit.events.model import EventType
from bnpl_credit.markets.catalog import load_catalog
from bnpl_credit.merchants import registry
from bnpl_credit.merchants.model import Merchant, MerchantStatus
from bnpl_credit.plans import confirm as confirming
from bnpl_credit.plans.model import PlanStatus
from bnpl_credit.settings import PACKAGED_POLICY
from bnpl_credit.storage.dynamodb_shards import CHECKOUT_DEADLINES_QUEUE, SHARDS, shard_partition, shard_partitions
from bnpl_credit.storage.port import CreditStore
from bnpl_credit.testing import NOW, FakeScorer, checkout_body, make_profile, new_key, score_result

POLICY = load_policy(PACKAGED_POLICY)
MARKETS = load_catalog()
CONFIG = CheckoutConfig(gateway_url="http://gw.test")


def run(coro: Any) -> Any:
    return asyncio.run(coro)


class Shop:
    def __init__(self, store: CreditStore) -> None:
        self.store = store
        self.clock = FixedClock(NOW)
        self.engine = DecisionEngine(
            policy=POLICY,
            markets=MARKETS,
            scorer=FakeScorer(result=score_result(pd=0.05, grade="B")),
            timeout_seconds=1,
        )

    async def merchant(self, merchant_id: str = "shop-1", **kw: Any) -> Merchant:
        args: dict[str, Any] = {
            "merchant_id": merchant_id,
            "display_name": "Shop",
            "market": "EU",
            "currency": "EUR",
            "origins": ["http://127.0.0.1:8100"],
            "webhook_url": None,
            "now": NOW,
            "local": True,
        }
        args.update(kw)
        return await registry.create_merchant(self.store, MARKETS, **args)

    async def create(self, merchant: Merchant, *, key: str | None = None, **overrides: Any) -> dict[str, Any]:
        body = CheckoutInput.model_validate(checkout_body(**overrides))
        stored = await service.create_checkout(
            self.store, MARKETS, self.clock, merchant, body=body, idempotency_key=key or new_key(), config=CONFIG
        )
        return stored.body

    async def apply(
        self, token: str, sub: str = "ana", plan_type: str = "PAY_IN_4", key: str | None = None
    ) -> dict[str, Any]:
        stored = await shopper.apply_with_checkout(
            self.store,
            self.engine,
            self.clock,
            sub,
            token=token,
            plan_type=plan_type,  # type: ignore[arg-type]
            profile=ProfileSnapshot.model_validate(make_profile(sub)),
            idempotency_key=key or new_key(),
            config=CONFIG,
        )
        return stored.body

    async def authorized(self, merchant: Merchant, amount: int = 20_000, sub: str = "ana") -> dict[str, Any]:
        created = await self.create(merchant, amount=amount)
        applied = await self.apply(created["checkoutToken"], sub)
        assert applied["status"] == "APPROVED" and applied["checkoutId"] == created["id"]
        await confirming.confirm_application(
            self.store,
            MARKETS,
            self.clock,
            sub,
            application_id=applied["id"],
            idempotency_key=new_key(),
            checkout_config=CONFIG,
        )
        return await self.get(merchant, created["id"])

    async def get(self, merchant: Merchant, checkout_id: str) -> dict[str, Any]:
        return (await service.get_checkout(self.store, self.clock, merchant, checkout_id, config=CONFIG)).to_json()

    async def capture(
        self, merchant: Merchant, checkout_id: str, amount: int, key: str | None = None
    ) -> dict[str, Any]:
        body = CaptureInput.model_validate({"amount": {"amount": amount, "currency": "EUR"}})
        stored = await service.capture(
            self.store,
            MARKETS,
            self.clock,
            merchant,
            checkout_id=checkout_id,
            body=body,
            idempotency_key=key or new_key(),
            config=CONFIG,
        )
        return stored.body

    async def void(self, merchant: Merchant, checkout_id: str, key: str | None = None) -> dict[str, Any]:
        stored = await service.void(
            self.store,
            MARKETS,
            self.clock,
            merchant,
            checkout_id=checkout_id,
            by="test",
            idempotency_key=key or new_key(),
            config=CONFIG,
        )
        return stored.body

    async def refund(self, merchant: Merchant, checkout_id: str, amount: int, key: str | None = None) -> dict[str, Any]:
        body = CheckoutRefundInput.model_validate({"amount": {"amount": amount, "currency": "EUR"}})
        stored = await service.refund(
            self.store,
            MARKETS,
            self.clock,
            merchant,
            checkout_id=checkout_id,
            body=body,
            by="test",
            idempotency_key=key or new_key(),
            config=CONFIG,
        )
        return stored.body

    async def exposure(self, sub: str = "ana") -> int:
        line = await credit_lines.credit_line(self.store, MARKETS, sub, now=self.clock.now())
        return line.exposure.amount if line.exposure else 0

    async def plan_checked(self, sub: str, plan_id: str) -> Any:
        plan = await self.store.get_plan(sub, plan_id)
        assert plan is not None
        plan.check_invariants(await self.store.list_payments(sub, plan_id), await self.store.list_refunds(sub, plan_id))
        return plan

    async def event_types(self) -> list[str]:
        return [str(e.type) for e in await self.store.pending_events(limit=1000)]


def test_create_is_idempotent_and_scoped_to_the_merchant(store: CreditStore) -> None:
    async def scenario() -> None:
        s = Shop(store)
        shop, other = await s.merchant(), await s.merchant("shop-2")
        key = new_key()
        first = await s.create(shop, key=key, orderReference="o-1")
        assert first == await s.create(shop, key=key, orderReference="o-1")
        assert first["status"] == "OPEN" and first["id"].startswith("chk_")
        assert first["redirectUrl"] == f"http://gw.test/checkout/?token={first['checkoutToken']}"
        assert first["planTypes"] == ["PAY_IN_4", "MONTHLY_3", "MONTHLY_6", "MONTHLY_12"]
        with pytest.raises(IdempotencyConflict):
            await s.create(shop, key=key, orderReference="o-2")
        s.clock.advance(timedelta(seconds=1))
        small = await s.create(shop, amount=5_000)
        assert small["planTypes"] == ["PAY_IN_4"]  # only what allows the amount
        assert (await s.get(shop, first["id"]))["status"] == "OPEN"
        with pytest.raises(AppError) as caught:
            await s.get(other, first["id"])
        assert caught.value.status_code == 404
        page = await service.list_checkouts(store, s.clock, shop, limit=1, next_token=None, config=CONFIG)
        assert [c.id for c in page.items] == [small["id"]] and page.next_token is not None
        rest = await service.list_checkouts(store, s.clock, shop, limit=5, next_token=page.next_token, config=CONFIG)
        assert [c.id for c in rest.items] == [first["id"]] and rest.next_token is None
        assert (
            await service.list_checkouts(store, s.clock, other, limit=5, next_token=None, config=CONFIG)
        ).items == []

    run(scenario())


@pytest.mark.parametrize(
    ("overrides", "field", "status"),
    [
        ({"returnUrl": "http://evil.example/return"}, "returnUrl", 422),
        ({"cancelUrl": "https://127.0.0.1:8100/cancel"}, "cancelUrl", 422),
        ({"amount": 20_000, "currency": "GBP"}, "amount.currency", 422),
        ({"amount": 500}, "amount.amount", 422),
        (
            {
                "amount": 20_000,
                "items": [{"name": "x", "quantity": 2, "unitPrice": {"amount": 9_000, "currency": "EUR"}}],
            },
            "items",
            422,
        ),
        ({"amount": 5_000, "planTypes": ["MONTHLY_12"]}, "amount.amount", 422),
    ],
)
def test_bad_sessions_are_refused_by_field(
    store: CreditStore, overrides: dict[str, Any], field: str, status: int
) -> None:
    async def scenario() -> None:
        s = Shop(store)
        shop = await s.merchant()
        rest = dict(overrides)
        amount = rest.pop("amount", 20_000)
        currency = rest.pop("currency", "EUR")
        with pytest.raises(AppError) as caught:
            await s.create(shop, amount=amount, currency=currency, **rest)
        assert (caught.value.field, caught.value.status_code) == (field, status)
        assert await store.list_checkouts("shop-1", limit=5, after=None) == []

    run(scenario())


def test_a_suspended_merchant_creates_nothing_but_can_void_and_refund(store: CreditStore) -> None:
    async def scenario() -> None:
        s = Shop(store)
        shop = await s.merchant()
        one = await s.authorized(shop)
        two = await s.authorized(shop, sub="bob")
        await s.capture(shop, two["id"], 20_000)
        suspended = await registry.set_status(store, "shop-1", MerchantStatus.SUSPENDED, now=NOW)
        with pytest.raises(AppError) as caught:
            await s.create(suspended)
        assert caught.value.status_code == 403
        assert (await s.void(suspended, one["id"]))["status"] == "VOIDED"
        assert (await s.refund(suspended, two["id"], 5_000))["status"] == "PARTIALLY_REFUNDED"

    run(scenario())


def test_lifecycle_apply_authorize_capture_refund(store: CreditStore) -> None:
    async def scenario() -> None:
        s = Shop(store)
        shop = await s.merchant()
        created = await s.create(shop, amount=20_000)
        applied = await s.apply(created["checkoutToken"])
        session = await s.get(shop, created["id"])
        assert session["status"] == "APPROVED" and session["applicationId"] == applied["id"]
        assert await store.checkout_ids_of([applied["id"], "no-such-application"]) == {applied["id"]: created["id"]}
        assert applied["amount"] == {"amount": 20_000, "currency": "EUR"} and applied["merchantId"] == "shop-1"
        with pytest.raises(InvalidCheckoutState):  # one application per session
            await s.apply(created["checkoutToken"], "ana")
        with pytest.raises(CheckoutNotFound):  # and another shopper does not even see it
            await s.apply(created["checkoutToken"], "bob")
        plan_body = (
            await confirming.confirm_application(
                store,
                MARKETS,
                s.clock,
                "ana",
                application_id=applied["id"],
                idempotency_key=new_key(),
                checkout_config=CONFIG,
            )
        ).body
        assert plan_body["status"] == "AUTHORIZED" and plan_body["amountPaid"]["amount"] == 0
        session = await s.get(shop, created["id"])
        assert session["status"] == "AUTHORIZED" and session["authorizedAmount"]["amount"] == 20_000
        assert session["planId"] == plan_body["id"]
        assert await s.exposure() == 20_000  # the authorization holds the credit
        s.clock.advance(timedelta(days=3))
        captured = await s.capture(shop, created["id"], 8_000)
        assert captured["status"] == "PARTIALLY_CAPTURED" and captured["capturedAmount"]["amount"] == 8_000
        plan = await s.plan_checked("ana", plan_body["id"])
        assert plan.status is PlanStatus.ACTIVE
        # the schedule starts at the first capture; pay in 4 takes its first part then
        assert plan.installments[0].due_date == s.clock.now().date() and plan.installments[0].paid == 5_000
        with pytest.raises(AppError) as caught:
            await s.capture(shop, created["id"], 12_001)
        assert caught.value.field == "amount.amount" and caught.value.status_code == 422
        with pytest.raises(AppError):  # only captured money is refunded
            await s.refund(shop, created["id"], 8_001)
        assert (await s.capture(shop, created["id"], 12_000))["status"] == "CAPTURED"
        assert (await s.refund(shop, created["id"], 5_000))["status"] == "PARTIALLY_REFUNDED"
        done = await s.refund(shop, created["id"], 15_000)
        assert done["status"] == "REFUNDED" and done["refundedAmount"]["amount"] == 20_000
        with pytest.raises(AppError):
            await s.refund(shop, created["id"], 1)
        plan = await s.plan_checked("ana", plan_body["id"])
        assert plan.status is PlanStatus.REFUNDED
        assert await s.exposure() == 0
        types = await s.event_types()
        for expected in ("checkout.approved", "checkout.authorized", "checkout.captured", "checkout.refunded"):
            assert expected in types
        events = await store.pending_events(limit=1000)
        captured_event = next(e for e in events if e.type is EventType.CHECKOUT_CAPTURED)
        assert captured_event.data["checkoutId"] == created["id"] and captured_event.data["merchantId"] == "shop-1"
        assert "checkoutToken" not in captured_event.data["checkout"]  # type: ignore[operator]

    run(scenario())


def test_void_before_capture_cancels_the_plan_and_capture_after_void_is_refused(store: CreditStore) -> None:
    async def scenario() -> None:
        s = Shop(store)
        shop = await s.merchant()
        session = await s.authorized(shop)
        key = new_key()
        voided = await s.void(shop, session["id"], key=key)
        assert voided["status"] == "VOIDED" and voided["voidedAmount"]["amount"] == 20_000
        assert voided == await s.void(shop, session["id"], key=key)  # a retry: the same answer
        with pytest.raises(InvalidCheckoutState):
            await s.capture(shop, session["id"], 1_000)
        plan = await s.plan_checked("ana", session["planId"])
        assert plan.status is PlanStatus.REFUNDED
        assert await s.exposure() == 0

    run(scenario())


def test_partial_capture_then_void_makes_the_principal_the_captured_amount(store: CreditStore) -> None:
    async def scenario() -> None:
        s = Shop(store)
        shop = await s.merchant()
        session = await s.authorized(shop)
        await s.capture(shop, session["id"], 12_000)
        voided = await s.void(shop, session["id"])
        assert voided["status"] == "CAPTURED" and voided["voidedAmount"]["amount"] == 8_000
        plan = await s.plan_checked("ana", session["planId"])
        assert plan.terms.principal - plan.refunded == 12_000
        assert plan.totals().total_due == 12_000
        with pytest.raises(InvalidCheckoutState):
            await s.void(shop, session["id"])

    run(scenario())


def test_capture_and_void_racing_apply_exactly_one(store: CreditStore) -> None:
    async def scenario() -> None:
        s = Shop(store)
        shop = await s.merchant()
        for n in range(6):
            session = await s.authorized(shop, sub=f"racer-{n}")
            results = await asyncio.gather(
                s.capture(shop, session["id"], 20_000), s.void(shop, session["id"]), return_exceptions=True
            )
            ok = [r for r in results if isinstance(r, dict)]
            failed = [r for r in results if isinstance(r, BaseException)]
            assert len(ok) == 1 and len(failed) == 1, results
            assert isinstance(failed[0], AppError) and failed[0].status_code == 409
            final = await s.get(shop, session["id"])
            assert final["status"] in ("CAPTURED", "VOIDED")
            assert final["capturedAmount"]["amount"] + final["voidedAmount"]["amount"] == 20_000
            await s.plan_checked(f"racer-{n}", session["planId"])

    run(scenario())


def test_sweeper_expires_sessions_and_uncaptured_authorizations(store: CreditStore) -> None:
    async def scenario() -> None:
        s = Shop(store)
        shop = await s.merchant()
        open_one = await s.create(shop)
        session = await s.authorized(shop)
        assert await s.exposure() == 20_000
        s.clock.advance(timedelta(hours=2))
        assert (await s.get(shop, open_one["id"]))["status"] == "EXPIRED"  # derived at once
        assert await service.sweep_checkouts(store, MARKETS, s.clock, config=CONFIG) == 1
        s.clock.advance(timedelta(days=28))
        assert await service.sweep_checkouts(store, MARKETS, s.clock, config=CONFIG) == 1
        expired = await s.get(shop, session["id"])
        assert expired["status"] == "EXPIRED" and expired["voidedAmount"]["amount"] == 20_000
        assert await s.exposure() == 0  # the credit is free again
        assert (await s.plan_checked("ana", session["planId"])).status is PlanStatus.REFUNDED
        assert await service.sweep_checkouts(store, MARKETS, s.clock, config=CONFIG) == 0
        assert (await s.event_types()).count("checkout.expired") == 2

    run(scenario())


def test_a_captured_authorization_does_not_expire(store: CreditStore) -> None:
    async def scenario() -> None:
        s = Shop(store)
        shop = await s.merchant()
        session = await s.authorized(shop)
        await s.capture(shop, session["id"], 5_000)
        s.clock.advance(timedelta(days=40))
        assert await service.sweep_checkouts(store, MARKETS, s.clock, config=CONFIG) == 0
        assert (await s.get(shop, session["id"]))["status"] == "PARTIALLY_CAPTURED"

    run(scenario())


@pytest.mark.parametrize(("scorer", "outcome"), [("decline", "DECLINED"), ("fail", "REFERRED")])
def test_a_declined_or_referred_decision_ends_the_session(store: CreditStore, scorer: str, outcome: str) -> None:
    async def scenario() -> None:
        s = Shop(store)
        if scorer == "decline":
            s.engine = DecisionEngine(
                policy=POLICY,
                markets=MARKETS,
                scorer=FakeScorer(result=score_result(pd=0.9, grade="E")),
                timeout_seconds=1,
            )
        else:
            s.engine = DecisionEngine(
                policy=POLICY, markets=MARKETS, scorer=FakeScorer(error=TimeoutError()), timeout_seconds=1
            )
        shop = await s.merchant()
        created = await s.create(shop)
        applied = await s.apply(created["checkoutToken"])
        assert applied["status"] == outcome
        session = await s.get(shop, created["id"])
        assert session["status"] == outcome and session["applicationId"] == applied["id"]
        assert f"checkout.{outcome.lower()}" in await s.event_types()
        with pytest.raises(InvalidCheckoutState):
            await s.apply(created["checkoutToken"])

    run(scenario())


# -- the checkout sweeper's queue across partitions (DynamoDB shards CHKDUE, SQLite has a table) --
def _due_partition(store: CreditStore, checkout_id: str) -> str | None:
    """The GSI3 partition key of a stored session (DynamoDB), None when it is in no queue."""
    client, table = store._client, store.table  # type: ignore[attr-defined]  # the DynamoDB adapter's
    key = to_item({"PK": f"CHK#{checkout_id}", "SK": "CHK"})
    partition = from_item(client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]).get("GSI3PK")
    return str(partition) if partition is not None else None


def _write_unsharded(store: CreditStore, checkout_id: str) -> None:
    """Put a stored session back as the code before the sharding wrote it: under ``CHKDUE``."""
    client, table = store._client, store.table  # type: ignore[attr-defined]  # the DynamoDB adapter's
    key = to_item({"PK": f"CHK#{checkout_id}", "SK": "CHK"})
    item = client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    client.put_item(TableName=table, Item={**item, "GSI3PK": {"S": CHECKOUT_DEADLINES_QUEUE}})


def test_checkout_deadlines_spread_over_the_shards_and_stay_in_them(store: CreditStore) -> None:
    if not hasattr(store, "_client"):
        pytest.skip("SQLite keeps sessions in a table: no partitions")
    partitions = {shard_partition(CHECKOUT_DEADLINES_QUEUE, f"chk-{n}") for n in range(2_000)}
    assert partitions == set(shard_partitions(CHECKOUT_DEADLINES_QUEUE)[1:]) and len(partitions) == SHARDS

    async def scenario() -> None:
        s = Shop(store)
        shop = await s.merchant()
        opened = [(await s.create(shop))["id"] for _ in range(8)]
        placed = {_due_partition(store, checkout_id) for checkout_id in opened}
        assert placed == {shard_partition(CHECKOUT_DEADLINES_QUEUE, c) for c in opened} and len(placed) > 1
        created = await s.create(shop)
        applied = await s.apply(created["checkoutToken"])  # APPROVED: by end of hold, same shard
        own = shard_partition(CHECKOUT_DEADLINES_QUEUE, created["id"])
        assert _due_partition(store, created["id"]) == own
        await confirming.confirm_application(
            store,
            MARKETS,
            s.clock,
            "ana",
            application_id=applied["id"],
            idempotency_key=new_key(),
            checkout_config=CONFIG,
        )
        assert _due_partition(store, created["id"]) == own  # AUTHORIZED: by end of authorization
        await s.capture(shop, created["id"], 20_000)
        assert _due_partition(store, created["id"]) is None  # CAPTURED: no deadline, out of the queue
        s.clock.advance(timedelta(hours=2))
        due = await store.due_checkouts(now=s.clock.now(), limit=100)
        assert sorted(c.id for c in due) == sorted(opened)  # every shard read

    run(scenario())


def test_the_checkout_sweeper_reads_the_unsharded_key_until_it_drains(store: CreditStore) -> None:
    if not hasattr(store, "_client"):
        pytest.skip("SQLite has no partitions: nothing was written before the sharding")

    async def scenario() -> None:
        s = Shop(store)
        shop = await s.merchant()
        old_open = (await s.create(shop))["id"]
        old_applied = await s.create(shop)
        s.clock.advance(timedelta(minutes=1))
        new_open = (await s.create(shop))["id"]
        for checkout_id in (old_open, old_applied["id"]):
            _write_unsharded(store, checkout_id)
        due = await store.due_checkouts(now=NOW + timedelta(minutes=61), limit=10)
        assert [c.id for c in due] == [*sorted([old_open, old_applied["id"]]), new_open]  # by deadline, then id

        await s.apply(old_applied["checkoutToken"])
        moved = _due_partition(store, old_applied["id"])  # still due (end of hold): moved to its shard
        assert moved == shard_partition(CHECKOUT_DEADLINES_QUEUE, old_applied["id"])

        s.clock.advance(timedelta(hours=2))
        assert await service.sweep_checkouts(store, MARKETS, s.clock, config=CONFIG) == 3
        assert {_due_partition(store, c) for c in (old_open, old_applied["id"], new_open)} == {None}  # drained
        assert await store.due_checkouts(now=s.clock.now(), limit=10) == []

    run(scenario())


def test_due_checkouts_are_earliest_first_and_bounded_by_now_across_shards(store: CreditStore) -> None:
    async def scenario() -> None:
        s = Shop(store)
        shop = await s.merchant()
        sessions = []  # (deadline, id), the pairs the sweeper orders by
        for n in range(12):
            created = (await s.create(shop))["id"]
            stored = await store.get_checkout(created)
            assert stored is not None and stored.deadline() is not None
            sessions.append((stored.deadline(), created))
            if n % 3 != 2:  # every third shares its deadline with the next one: ties go by id
                s.clock.advance(timedelta(minutes=1))
        if hasattr(store, "_client"):
            shards = {_due_partition(store, c) for _, c in sessions}
            assert shards <= set(shard_partitions(CHECKOUT_DEADLINES_QUEUE)[1:]) and len(shards) > 1
            for _, checkout_id in sessions[:1] + sessions[6:7]:  # two written before the sharding
                _write_unsharded(store, checkout_id)
        sessions.sort()
        bound = sessions[6][0]
        assert bound is not None
        ended = [c for deadline, c in sessions if deadline is not None and deadline <= bound]
        assert len(ended) >= 7  # the 7th's deadline, and any tied with it, are due: the bound is inclusive

        assert [c.id for c in await store.due_checkouts(now=bound, limit=100)] == ended
        assert [c.id for c in await store.due_checkouts(now=bound, limit=4)] == ended[:4]
        first = sessions[0][0]
        assert first is not None
        assert await store.due_checkouts(now=first - timedelta(microseconds=1), limit=100) == []
        last = sessions[-1][0]
        assert last is not None
        assert [c.id for c in await store.due_checkouts(now=last, limit=100)] == [c for _, c in sessions]

    run(scenario())
