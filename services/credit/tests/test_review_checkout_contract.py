"""A review's outcome moves the application's checkout session and tells its merchant, and a
referral holds credit while its case is open: through the real service functions, against both
storage adapters (SQLite file, DynamoDB on moto)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from bnpl_common.clock import FixedClock
from bnpl_common.jwt import Principal
from bnpl_credit.applications.schemas import ProfileSnapshot
from bnpl_credit.audit.model import AuditAction, plan_subject
from bnpl_credit.checkouts import service as checkouts
from bnpl_credit.checkouts import shopper
from bnpl_credit.checkouts.config import CheckoutConfig
from bnpl_credit.checkouts.schemas import CaptureInput, CheckoutInput
from bnpl_credit.credit_line.service import customer_history
from bnpl_credit.decision.engine import DecisionEngine
from bnpl_credit.decision.policy import load_policy
from bnpl_credit.markets.catalog import load_catalog
from bnpl_credit.merchants import registry
from bnpl_credit.merchants.model import Merchant
from bnpl_credit.plans import confirm as confirming
from bnpl_credit.plans import waivers
from bnpl_credit.reviews import service
from bnpl_credit.reviews.roles import REVIEWER_GROUP
from bnpl_credit.reviews.schemas import DecideInput
from bnpl_credit.reviews.service import ReviewRules
from bnpl_credit.settings import PACKAGED_POLICY
from bnpl_credit.storage.port import CreditStore
from bnpl_credit.testing import NOW, FakeScorer, checkout_body, make_profile, new_key, score_result

POLICY = load_policy(PACKAGED_POLICY)
MARKETS = load_catalog()
CONFIG = CheckoutConfig(gateway_url="http://gateway.test")
RULES = ReviewRules(ttl=timedelta(hours=24), four_eyes_amount=30_000, gateway_url=CONFIG.gateway_url)
REVIEWER = Principal("rev-1", "rev-1", "c", "t", (REVIEWER_GROUP,))
APPROVER = Principal("apr-1", "apr-1", "c", "t", ("operations-risk",))


class Shop:
    """A merchant whose sessions are applied for with a scorer that refers (pd 0.25)."""

    def __init__(self, store: CreditStore) -> None:
        self.store = store
        self.clock = FixedClock(NOW)
        scorer = FakeScorer(result=score_result(pd=0.25, grade="C"))
        self.engine = DecisionEngine(policy=POLICY, markets=MARKETS, scorer=scorer, timeout_seconds=1)
        self.merchant: Merchant | None = None

    async def referred(self, sub: str, amount: int) -> dict[str, Any]:
        if self.merchant is None:
            self.merchant = await registry.create_merchant(
                self.store,
                MARKETS,
                merchant_id="shop-1",
                display_name="Shop",
                market="EU",
                currency="EUR",
                origins=["http://127.0.0.1:8100"],
                webhook_url=None,
                now=NOW,
                local=True,
            )
        body = CheckoutInput.model_validate(checkout_body(amount=amount))
        created = await checkouts.create_checkout(
            self.store, MARKETS, self.clock, self.merchant, body=body, idempotency_key=new_key(), config=CONFIG
        )
        applied = await shopper.apply_with_checkout(
            self.store,
            self.engine,
            self.clock,
            sub,
            token=created.body["checkoutToken"],
            plan_type="PAY_IN_4",
            profile=ProfileSnapshot.model_validate(make_profile(sub)),
            idempotency_key=new_key(),
            config=CONFIG,
        )
        assert applied.body["status"] == "REFERRED"
        return applied.body

    async def session_status(self, checkout_id: str) -> str:
        session = await self.store.get_checkout(checkout_id)
        assert session is not None
        return str(session.status_at(self.clock.now()))

    async def decide(self, sub: str, application_id: str, **body: Any) -> None:
        case = await self.store.case_for_application(sub, application_id)
        assert case is not None
        await service.decide(
            self.store,
            self.engine,
            self.clock,
            RULES,
            None,
            REVIEWER,
            case_id=case.id,
            body=DecideInput.model_validate(body),
            idempotency_key=new_key(),
        )

    async def held(self, sub: str) -> int:
        history = customer_history(await self.store.snapshot(sub), now=self.clock.now(), markets=MARKETS)
        return history.held_approvals

    async def merchant_events(self, checkout_id: str) -> list[str]:
        """The session's merchant events, by name (the clock stands still: no order among them)."""
        return sorted(
            str(e.type)
            for e in await self.store.pending_events(limit=1000)
            if str(e.type).startswith("checkout.") and e.data.get("checkoutId") == checkout_id
        )


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_an_approved_referral_approves_the_session_which_can_then_be_confirmed(store: CreditStore) -> None:
    async def scenario() -> None:
        s = Shop(store)
        app = await s.referred("ana", 20_000)
        assert await s.held("ana") == 20_000  # the referral holds the amount asked
        await s.decide("ana", app["id"], decision="APPROVE", amount={"amount": 15_000, "currency": "EUR"})
        assert await s.session_status(app["checkoutId"]) == "APPROVED"
        assert await s.merchant_events(app["checkoutId"]) == ["checkout.approved", "checkout.referred"]
        application = await store.get_application("ana", app["id"])
        assert application is not None and application.hold is not None
        assert await s.held("ana") == application.hold  # the approval's hold replaced the referral's
        await confirming.confirm_application(
            store,
            MARKETS,
            s.clock,
            "ana",
            application_id=app["id"],
            idempotency_key=new_key(),
            checkout_config=CONFIG,
        )
        assert await s.session_status(app["checkoutId"]) == "AUTHORIZED"

    run(scenario())


def test_a_declined_referral_declines_the_session_and_releases_the_hold(store: CreditStore) -> None:
    async def scenario() -> None:
        s = Shop(store)
        first = await s.referred("bo", 20_000)
        await s.referred("bo", 10_000)
        assert await s.held("bo") == 30_000
        await s.decide("bo", first["id"], decision="DECLINE", reasons=["AFFORDABILITY"])
        assert await s.session_status(first["checkoutId"]) == "DECLINED"
        assert await s.merchant_events(first["checkoutId"]) == ["checkout.declined", "checkout.referred"]
        assert await s.held("bo") == 10_000

    run(scenario())


def test_an_expired_case_expires_the_session_and_releases_the_hold(store: CreditStore) -> None:
    async def scenario() -> None:
        s = Shop(store)
        app = await s.referred("cy", 20_000)
        s.clock.advance(RULES.ttl + timedelta(seconds=1))
        assert await service.expire_cases(store, s.clock, RULES, None) == 1
        assert await s.session_status(app["checkoutId"]) == "EXPIRED"
        assert await s.merchant_events(app["checkoutId"]) == ["checkout.expired", "checkout.referred"]
        assert await s.held("cy") == 0

    run(scenario())


def test_an_approver_waives_a_late_fee_with_its_audit_record_in_one_write(store: CreditStore) -> None:
    async def scenario() -> None:
        s = Shop(store)
        app = await s.referred("di", 20_000)
        await s.decide("di", app["id"], decision="APPROVE")
        plan_json = await confirming.confirm_application(
            store, MARKETS, s.clock, "di", application_id=app["id"], idempotency_key=new_key(), checkout_config=CONFIG
        )
        assert s.merchant is not None
        await checkouts.capture(
            store,
            MARKETS,
            s.clock,
            s.merchant,
            checkout_id=app["checkoutId"],
            body=CaptureInput.model_validate({"amount": {"amount": 20_000, "currency": "EUR"}}),
            idempotency_key=new_key(),
            config=CONFIG,
        )
        plan_id = plan_json.body["id"]
        s.clock.advance(timedelta(days=25))  # installment 2 is late, with its fee
        key = new_key()

        async def waive(installment: int | None, idempotency_key: str) -> dict[str, Any]:
            stored = await waivers.waive_late_fee(
                store,
                MARKETS,
                s.clock,
                APPROVER,
                plan_id=plan_id,
                installment=installment,
                reason="a hospital stay",
                idempotency_key=idempotency_key,
            )
            return stored.body

        body = await waive(2, key)
        assert body["waived"] == [{"sequence": 2, "amount": {"amount": 500, "currency": "EUR"}}]
        assert await waive(2, key) == body  # the retry is answered, nothing waived twice
        plan = await store.find_plan(plan_id)
        assert plan is not None and plan.installments[1].late_fee == 0 and plan.installments[1].late_on is not None
        with pytest.raises(waivers.NoLateFee):
            await waive(None, new_key())
        [record] = await store.list_audit(plan_subject(plan_id), limit=5, after=None)
        assert record.action is AuditAction.LATE_FEE_WAIVED and record.reason == "a hospital stay"
        assert record.actor == "apr-1"
        types = [str(e.type) for e in await store.pending_events(limit=1000) if e.data.get("planId") == plan_id]
        assert "installment.late" in types and types.count("plan.late_fee_waived") == 1

    run(scenario())


def test_merchant_changes_by_staff_are_stored_with_their_audit_records(store: CreditStore) -> None:
    from bnpl_credit.audit.model import merchant_subject
    from bnpl_credit.merchants.model import MerchantStatus
    from bnpl_credit.staff import merchants
    from bnpl_credit.staff.schemas import MerchantInput

    async def scenario() -> None:
        clock = FixedClock(NOW)
        body = MerchantInput.model_validate(
            {
                "merchantId": "corner-shop",
                "displayName": "Corner Shop",
                "market": "EU",
                "currency": "EUR",
                "origins": ["http://127.0.0.1:8100"],
            }
        )
        created = await merchants.create(store, MARKETS, clock, APPROVER, body=body, local=True)
        await merchants.set_status(store, clock, APPROVER, merchant_id="corner-shop", active=False, reason="fraud")
        rotated = await merchants.rotate_key(store, clock, APPROVER, merchant_id="corner-shop")
        stored = await store.get_merchant("corner-shop")
        assert stored is not None and stored.status is MerchantStatus.SUSPENDED and len(stored.valid_keys(NOW)) == 2
        records = await store.list_audit(merchant_subject("corner-shop"), limit=10, after=None)
        assert sorted(str(r.action) for r in records) == [
            "merchant.created",
            "merchant.key_rotated",
            "merchant.suspended",
        ]
        text = str([r.details for r in records])
        assert created.credentials.secret_access_key not in text and created.webhook_secret not in text
        assert rotated.credentials.secret_access_key not in text

    run(scenario())


def test_an_approver_changes_a_merchants_origins_and_webhook_url_audited(store: CreditStore) -> None:
    """The registry's checks apply (locally: https, or http to a loopback host); a refused value
    changes nothing and records nothing; each change is stored with its audit record, which says
    what it was before."""
    import json

    from bnpl_common.errors import ValidationFailed
    from bnpl_credit.audit.model import merchant_subject
    from bnpl_credit.staff import merchants
    from bnpl_credit.staff.schemas import MerchantInput

    async def scenario() -> None:
        clock = FixedClock(NOW)
        body = MerchantInput.model_validate(
            {
                "merchantId": "lamp-shop",
                "displayName": "Lamp Shop",
                "market": "EU",
                "currency": "EUR",
                "origins": ["https://lamps.example"],
            }
        )
        await merchants.create(store, MARKETS, clock, APPROVER, body=body, local=True)
        view = await merchants.set_origins(
            store,
            clock,
            APPROVER,
            merchant_id="lamp-shop",
            origins=["https://lamps.example/", "https://shop.lamps.example"],
        )
        assert view.origins == ["https://lamps.example", "https://shop.lamps.example"]
        view = await merchants.set_webhook_url(
            store, clock, APPROVER, merchant_id="lamp-shop", url="https://lamps.example/hooks", local=True
        )
        assert view.webhook_url == "https://lamps.example/hooks"
        with pytest.raises(ValidationFailed) as bad_url:
            await merchants.set_webhook_url(
                store, clock, APPROVER, merchant_id="lamp-shop", url="http://lamps.example/hooks", local=True
            )
        assert bad_url.value.field == "webhookUrl"
        with pytest.raises(ValidationFailed) as no_origins:
            await merchants.set_origins(store, clock, APPROVER, merchant_id="lamp-shop", origins=[])
        assert no_origins.value.field == "origins"
        with pytest.raises(registry.MerchantNotFound):
            await merchants.set_origins(store, clock, APPROVER, merchant_id="no-shop", origins=["https://x.example"])
        removed = await merchants.set_webhook_url(store, clock, APPROVER, merchant_id="lamp-shop", url=None, local=True)
        assert removed.webhook_url is None
        stored = await store.get_merchant("lamp-shop")
        assert stored is not None and stored.origins == ("https://lamps.example", "https://shop.lamps.example")
        assert stored.webhook_url is None
        records = await store.list_audit(merchant_subject("lamp-shop"), limit=10, after=None)
        changes = sorted(
            ((str(r.action), dict(r.details)) for r in records if str(r.action) != "merchant.created"),
            key=lambda c: (c[0], json.dumps(c[1], sort_keys=True)),
        )
        assert changes == sorted(
            [
                (
                    "merchant.origins_changed",
                    {
                        "previous": ["https://lamps.example"],
                        "origins": ["https://lamps.example", "https://shop.lamps.example"],
                    },
                ),
                (
                    "merchant.webhook_url_changed",
                    {"previous": None, "webhookUrl": "https://lamps.example/hooks"},
                ),
                (
                    "merchant.webhook_url_changed",
                    {"previous": "https://lamps.example/hooks", "webhookUrl": None},
                ),
            ],
            key=lambda c: (c[0], json.dumps(c[1], sort_keys=True)),
        )
        assert all(r.actor == APPROVER.sub for r in records)

    run(scenario())


def test_the_dashboard_counts_todays_decisions_by_outcome_platform_wide(store: CreditStore) -> None:
    from bnpl_credit.reviews import dashboard

    async def scenario() -> None:
        s = Shop(store)
        await s.referred("ed", 20_000)
        await s.referred("fay", 10_000)
        board = await dashboard.dashboard(store, s.clock, ttl=RULES.ttl)
        assert board.decisions_today == {"APPROVED": 0, "DECLINED": 0, "REFERRED": 2}
        assert board.referral_rate == 1.0
        assert board.live_by_age["UNDER_1_HOUR"] == 2
        s.clock.advance(timedelta(days=1))  # a new day counts afresh
        tomorrow = await dashboard.dashboard(store, s.clock, ttl=RULES.ttl)
        assert tomorrow.decisions_today == {"APPROVED": 0, "DECLINED": 0, "REFERRED": 0}
        assert tomorrow.referral_rate is None

    run(scenario())
