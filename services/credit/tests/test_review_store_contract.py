"""Review cases and the audit log, through the real service functions, against both storage
adapters (SQLite file, DynamoDB on moto): opening with the decision, four eyes, the outcome
as a new decision record, expiry, and audit records written with each step."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from typing import Any

import pytest
from bnpl_common.clock import FixedClock
from bnpl_common.dynamodb import from_item, to_item
from bnpl_common.errors import ValidationFailed
from bnpl_common.jwt import Principal
from bnpl_credit.applications import deciding
from bnpl_credit.applications.model import ApplicationStatus
from bnpl_credit.applications.schemas import ApplicationInput
from bnpl_credit.audit.model import AuditAction, case_subject, customer_subject
from bnpl_credit.decision.engine import DecisionEngine
from bnpl_credit.decision.policy import load_policy
from bnpl_credit.errors import InvalidApplicationState
from bnpl_credit.events.model import EventType
from bnpl_credit.markets.catalog import load_catalog
from bnpl_credit.reviews import service
from bnpl_credit.reviews.model import CaseStatus, FourEyesViolation
from bnpl_credit.reviews.roles import APPROVER_GROUP, REVIEWER_GROUP
from bnpl_credit.reviews.schemas import DecideInput
from bnpl_credit.reviews.service import ReviewAlreadyRequested, ReviewRules
from bnpl_credit.settings import PACKAGED_POLICY
from bnpl_credit.storage.dynamodb_shards import HELD_QUEUE, shard_partition
from bnpl_credit.storage.port import CreditStore
from bnpl_credit.testing import NOW, FakeScorer, make_order, make_profile, new_key, score_result

POLICY = load_policy(PACKAGED_POLICY)
MARKETS = load_catalog()
RULES = ReviewRules(ttl=timedelta(hours=24), four_eyes_amount=30_000)
REVIEWER = Principal("rev-1", "rev-1", "c", "t", (REVIEWER_GROUP,))
APPROVER = Principal("apr-1", "apr-1", "c", "t", (APPROVER_GROUP,))
APPROVER2 = Principal("apr-2", "apr-2", "c", "t", (APPROVER_GROUP,))


class Sent:
    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []

    async def send_sms(self, to: str, body: str) -> None:
        self.messages.append((to, body))


class Harness:
    def __init__(self, store: CreditStore, pd: float) -> None:
        self.store = store
        self.clock = FixedClock(NOW)
        scorer = FakeScorer(result=score_result(pd=pd, grade="C"))
        self.engine = DecisionEngine(policy=POLICY, markets=MARKETS, scorer=scorer, timeout_seconds=1.0)
        self.sms = Sent()

    async def apply(self, sub: str, **order: Any) -> dict[str, Any]:
        body = ApplicationInput.model_validate({"order": make_order(**order), "profile": make_profile(sub)})
        stored = await deciding.apply_for_credit(
            self.store, self.engine, self.clock, sub, body=body, idempotency_key=new_key()
        )
        return stored.body

    async def case_of(self, sub: str, app_id: str) -> Any:
        case = await self.store.case_for_application(sub, app_id)
        assert case is not None
        return case

    async def decide(self, staff: Principal, case_id: str, **body: Any) -> dict[str, Any]:
        stored = await service.decide(
            self.store,
            self.engine,
            self.clock,
            RULES,
            self.sms,
            staff,
            case_id=case_id,
            body=DecideInput.model_validate(body),
            idempotency_key=new_key(),
        )
        return stored.body

    async def approve(self, staff: Principal, case_id: str) -> dict[str, Any]:
        stored = await service.approve(
            self.store, self.engine, self.clock, RULES, self.sms, staff, case_id=case_id, idempotency_key=new_key()
        )
        return stored.body

    async def events(self) -> list[str]:
        return [str(e.type) for e in await self.store.pending_events(limit=100)]


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_a_referral_opens_a_case_and_an_approval_makes_a_new_decision(store: CreditStore) -> None:
    async def scenario() -> None:
        h = Harness(store, pd=0.25)  # between approve_max_pd and refer_max_pd: REFERRED
        app = await h.apply("cust-1")
        assert app["status"] == "REFERRED"
        case = await h.case_of("cust-1", app["id"])
        assert case.status is CaseStatus.OPEN
        page = await service.queue(store, h.clock, RULES, status=CaseStatus.OPEN, limit=10, next_token=None)
        assert [c.id for c in page.items] == [case.id]

        detail = await service.case_detail(store, h.clock, RULES, REVIEWER, case_id=case.id)
        assert detail.decision is not None and detail.decision.pd == pytest.approx(0.25)
        assert detail.decision.features and detail.decision.policy_version == POLICY.version
        h.clock.advance(timedelta(minutes=5))

        out = await h.decide(
            REVIEWER, case.id, decision="APPROVE", amount={"amount": 15_000, "currency": "EUR"}, note="income checked"
        )
        assert out["status"] == "APPROVED"
        application = await store.get_application("cust-1", app["id"])
        assert application is not None and application.status is ApplicationStatus.APPROVED
        assert application.order.amount == 15_000 and application.offer is not None
        assert sum(i.amount for i in application.offer.schedule.installments) == 15_000
        # the original record stays as it was; the outcome is a new record linked to it
        record = await store.get_decision_record("cust-1", app["id"])
        assert record is not None and str(record.status) == "REFERRED"
        outcome = await store.get_review_decision(case.id)
        assert outcome is not None and outcome.application_id == app["id"] and outcome.deciders == ("rev-1",)
        assert str(outcome.status) == "APPROVED" and str(outcome.original_status) == "REFERRED"
        assert EventType.REVIEW_DECIDED in await h.events()
        assert h.sms.messages and h.sms.messages[-1][0] == "+34600000001"
        actions = [r.action for r in await store.list_audit(case_subject(case.id), limit=10, after=None)]
        assert actions == [AuditAction.CASE_DECIDED, AuditAction.CASE_VIEWED]
        assert len(await store.list_audit(customer_subject("cust-1"), limit=10, after=None)) == 2

    run(scenario())


def test_a_reviewers_approval_joins_the_expiry_queue_in_its_shard(store: CreditStore) -> None:
    async def scenario() -> None:
        h = Harness(store, pd=0.25)  # REFERRED
        app = await h.apply("cust-1")
        case = await h.case_of("cust-1", app["id"])
        out = await h.decide(REVIEWER, case.id, decision="APPROVE", amount={"amount": 15_000, "currency": "EUR"})
        assert out["status"] == "APPROVED"
        if hasattr(store, "_client"):  # DynamoDB: the approval is in its HELD shard, not the unsharded key
            client, table = store._client, store.table  # type: ignore[attr-defined]  # the DynamoDB adapter's
            key = to_item({"PK": "CUST#cust-1", "SK": f"APP#{app['id']}"})
            item = from_item(client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"])
            assert item["GSI3PK"] == shard_partition(HELD_QUEUE, app["id"])
        application = await store.get_application("cust-1", app["id"])
        assert application is not None and application.expires_at is not None
        assert await store.list_expired_approvals(now=application.expires_at - timedelta(seconds=1), limit=10) == []
        due = await store.list_expired_approvals(now=application.expires_at, limit=10)
        assert [a.id for a in due] == [app["id"]]

    run(scenario())


def test_four_eyes_needs_a_different_approver(store: CreditStore) -> None:
    async def scenario() -> None:
        h = Harness(store, pd=0.25)
        app = await h.apply("cust-2", amount={"amount": 40_000, "currency": "EUR"})
        case = await h.case_of("cust-2", app["id"])
        out = await h.decide(APPROVER, case.id, decision="APPROVE")
        assert out["status"] == "AWAITING_SECOND_APPROVAL"
        with pytest.raises(FourEyesViolation):
            await h.approve(APPROVER, case.id)
        application = await store.get_application("cust-2", app["id"])
        assert application is not None and application.status is ApplicationStatus.REFERRED
        out = await h.approve(APPROVER2, case.id)
        assert out["status"] == "APPROVED"
        outcome = await store.get_review_decision(case.id)
        assert outcome is not None and outcome.deciders == ("apr-1", "apr-2")

    run(scenario())


def test_a_contested_decline_is_reviewed_once_and_upheld(store: CreditStore) -> None:
    async def scenario() -> None:
        h = Harness(store, pd=0.5)  # above refer_max_pd: DECLINED
        app = await h.apply("cust-3")
        assert app["status"] == "DECLINED"
        assert await store.case_for_application("cust-3", app["id"]) is None
        status = await service.request_review(
            store, h.clock, RULES, "cust-3", application_id=app["id"], statement="I have a new job"
        )
        assert status.status == "OPEN"
        with pytest.raises(ReviewAlreadyRequested):
            await service.request_review(store, h.clock, RULES, "cust-3", application_id=app["id"], statement="again")
        with pytest.raises(ValidationFailed):
            await h.decide(REVIEWER, status.case_id, decision="DECLINE", reasons=["NOT_A_CODE"])
        out = await h.decide(REVIEWER, status.case_id, decision="DECLINE", reasons=["AFFORDABILITY"])
        assert out["status"] == "DECLINED"
        application = await store.get_application("cust-3", app["id"])
        assert application is not None and [r.code for r in application.reasons] == ["AFFORDABILITY"]
        assert application.notice is not None

    run(scenario())


def test_approving_a_decline_needs_four_eyes_and_request_info_round_trip(store: CreditStore) -> None:
    async def scenario() -> None:
        h = Harness(store, pd=0.5)
        app = await h.apply("cust-4")
        status = await service.request_review(store, h.clock, RULES, "cust-4", application_id=app["id"], statement="s")
        out = await h.decide(REVIEWER, status.case_id, decision="REQUEST_INFO", note="send a payslip")
        assert out["status"] == "INFO_REQUESTED"
        answered = await service.request_review(
            store, h.clock, RULES, "cust-4", application_id=app["id"], statement="payslip attached"
        )
        assert answered.status == "OPEN"
        # back in the queue, the answer in the case view, the answer in the case's audit trail
        page = await service.queue(store, h.clock, RULES, status=CaseStatus.OPEN, limit=10, next_token=None)
        assert status.case_id in [c.id for c in page.items]
        detail = await service.case_detail(store, h.clock, RULES, REVIEWER, case_id=status.case_id)
        assert detail.info_request == "send a payslip"
        assert detail.statement is not None and detail.statement.endswith("payslip attached")
        trail = await store.list_audit(case_subject(status.case_id), limit=10, after=None)
        answer = next(r for r in trail if r.action is AuditAction.CASE_INFO_ANSWERED)
        assert answer.actor == "cust-4" and answer.case_id == status.case_id
        assert answer.details["to"] == "OPEN"
        out = await h.decide(REVIEWER, status.case_id, decision="APPROVE", amount={"amount": 10_000, "currency": "EUR"})
        assert out["status"] == "AWAITING_SECOND_APPROVAL"  # the model declined it

    run(scenario())


def test_an_undecided_case_expires_and_a_referral_application_with_it(store: CreditStore) -> None:
    async def scenario() -> None:
        h = Harness(store, pd=0.25)
        app = await h.apply("cust-5")
        case = await h.case_of("cust-5", app["id"])
        h.clock.advance(RULES.ttl + timedelta(seconds=1))
        assert await service.expire_cases(store, h.clock, RULES, h.sms) == 1
        stored = await store.get_case(case.id)
        assert stored is not None and stored.status is CaseStatus.EXPIRED
        application = await store.get_application("cust-5", app["id"])
        assert application is not None and application.status is ApplicationStatus.EXPIRED
        with pytest.raises(Exception):  # noqa: B017 - InvalidCaseState
            await h.decide(REVIEWER, case.id, decision="DECLINE", reasons=["HIGH_RISK"])
        assert EventType.REVIEW_EXPIRED in await h.events()
        assert [r.action for r in await store.list_audit(case_subject(case.id), limit=5, after=None)] == [
            AuditAction.CASE_EXPIRED
        ]
        assert h.sms.messages

    run(scenario())


def test_only_declined_or_referred_applications_can_be_reviewed(store: CreditStore) -> None:
    async def scenario() -> None:
        h = Harness(store, pd=0.05)
        app = await h.apply("cust-6")
        assert app["status"] == "APPROVED"
        with pytest.raises(InvalidApplicationState):
            await service.request_review(store, h.clock, RULES, "cust-6", application_id=app["id"], statement="s")

    run(scenario())


def test_sqlite_audit_records_cannot_be_changed(tmp_path: Any) -> None:
    from bnpl_credit.storage.sqlite import SqliteStore

    store = SqliteStore(tmp_path / "a.sqlite3")

    async def scenario() -> None:
        h = Harness(store, pd=0.25)
        app = await h.apply("cust-7")
        case = await h.case_of("cust-7", app["id"])
        await service.case_detail(store, h.clock, RULES, REVIEWER, case_id=case.id)

    run(scenario())
    conn = sqlite3.connect(store.path)
    for sql in ("UPDATE audit_log SET doc = '{}'", "DELETE FROM audit_log", "DELETE FROM audit_subjects"):
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(sql)
    conn.close()


def test_the_dashboard_counts_the_queue_and_todays_outcomes(store: CreditStore) -> None:
    from bnpl_credit.reviews.dashboard import dashboard

    async def scenario() -> None:
        h = Harness(store, pd=0.25)
        first = await h.apply("cust-8")
        await h.apply("cust-9")
        h.clock.advance(timedelta(hours=1))
        case = await h.case_of("cust-8", first["id"])
        await h.decide(REVIEWER, case.id, decision="DECLINE", reasons=["HIGH_RISK"])
        board = await dashboard(store, h.clock, ttl=RULES.ttl)
        assert board.by_status["OPEN"] == 1 and board.by_status["DECLINED"] == 1
        assert board.oldest_live_age_seconds == 3600 and board.median_live_age_seconds == 3600
        assert board.opened_today == {"REFERRAL": 2} and board.closed_today == {"DECLINED": 1}

    run(scenario())


class RacingScorer:
    """The first two calls wait for each other, so both decisions read the credit line before
    either writes; the smaller order is scored into the referral band, the larger approved."""

    def __init__(self) -> None:
        self.arrived: list[float] = []
        self.both = asyncio.Event()

    async def score(self, features: Any) -> Any:
        price = float(features["Price"])
        if not self.both.is_set():
            self.arrived.append(price)
            if len(self.arrived) == 2:
                self.both.set()
            await self.both.wait()
        return score_result(pd=0.25 if price == min(self.arrived) else 0.05, grade="B")

    async def aclose(self) -> None:
        pass


def test_a_referral_and_an_approval_racing_for_one_line_never_exceed_the_limit(store: CreditStore) -> None:
    """A referral's hold reserves on the account's version as an approval's does: of two
    decisions that read the same line, the second to write decides again and sees the first."""

    async def scenario() -> None:
        h = Harness(store, pd=0.05)  # the first approval sets the line
        first = await h.apply("cust-race", amount={"amount": 1_000, "currency": "EUR"})
        assert first["status"] == "APPROVED"
        h.clock.advance(timedelta(days=3))  # its hold has ended: the whole line is free
        account = (await store.snapshot("cust-race")).account
        assert account is not None
        limit = account.credit_limit
        referral_amount, approval_amount = limit // 2 + 1_000, limit // 2 + 2_000  # each fits, not both
        h.engine = DecisionEngine(policy=POLICY, markets=MARKETS, scorer=RacingScorer(), timeout_seconds=5.0)
        referral, approval = await asyncio.gather(
            h.apply("cust-race", amount={"amount": referral_amount, "currency": "EUR"}),
            h.apply("cust-race", amount={"amount": approval_amount, "currency": "EUR"}),
        )
        statuses = {referral["status"], approval["status"]}
        assert statuses in ({"REFERRED", "DECLINED"}, {"APPROVED", "DECLINED"}), (referral, approval)
        snapshot = await store.snapshot("cust-race")
        now = h.clock.now()
        held = sum(a.hold or 0 for a in snapshot.approved_applications if a.holds_credit_at(now))
        assert min(referral_amount, approval_amount) <= held <= limit

    run(scenario())
