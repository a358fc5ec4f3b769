"""The scheduler's rules on their own (what to do for a plan on a given day), one pass of it on
a real SQLite store with a recording PSP double that honours idempotency keys as Stripe does,
the spreading of refunds over charges, and the collection settings."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from bnpl_common.clock import FixedClock
from bnpl_common.money import Money
from bnpl_credit.collections.model import InstallmentCollection, PaymentProfile, PlanCollection, SavedMethod
from bnpl_credit.collections.refunds import return_to_method, spread
from bnpl_credit.collections.scheduler import (
    Collection,
    CollectionRules,
    Step,
    StepKind,
    next_attempt_on,
    next_steps,
)
from bnpl_credit.collections.service import Collector
from bnpl_credit.collections.settings import CollectionSettings
from bnpl_credit.events.model import EventType
from bnpl_credit.markets.catalog import DisclosedRate, load_catalog
from bnpl_credit.markets.rates import RateKind
from bnpl_credit.plans.ledger import Installment, Plan, PlanTerms
from bnpl_credit.plans.model import Payment, PaymentSource, PlanStatus, Refund
from bnpl_credit.psp import ChargeResult, ChargeStatus, RefundStatus
from bnpl_credit.psp import Refund as PspRefund
from bnpl_credit.psp.errors import PspUnavailable
from bnpl_credit.storage.sqlite import SqliteStore
from bnpl_credit.testing import NOW
from pydantic import ValidationError

TODAY = NOW.date()
RULES = CollectionRules(retry_days=(1, 3, 7), reminder_days=3)
ZERO = DisclosedRate(RateKind.APRC, "APRC", Decimal("0.0"))


def pay_in_4(first_paid: bool = True, plan_id: str = "plan-1") -> Plan:
    terms = PlanTerms(
        id=plan_id,
        customer_id="ana",
        application_id="app-1",
        plan_type="PAY_IN_4",
        merchant_id="shop",
        order_reference="o-1",
        currency="EUR",
        principal=10_000,
        finance_charge=0,
        total_of_payments=10_000,
        apr_basis_points=0,
        created_at=NOW,
        rate=ZERO,
    )
    plan = Plan(terms, [Installment(n + 1, TODAY + timedelta(days=14 * n), 2_500) for n in range(4)])
    if first_paid:
        plan.take_payment(2_500, "EUR", TODAY)
    return plan


def empty(plan: Plan) -> PlanCollection:
    return PlanCollection(plan.id, plan.customer_id)


def test_nothing_before_the_reminder_window_then_one_reminder() -> None:
    plan = pay_in_4()
    due = TODAY + timedelta(days=14)
    assert next_steps(plan, empty(plan), TODAY + timedelta(days=10), RULES) == []
    steps = next_steps(plan, empty(plan), TODAY + timedelta(days=11), RULES)
    assert steps == [Step(StepKind.REMIND_DUE, 2, 2_500, due)]
    reminded = empty(plan).with_installment(InstallmentCollection(2, reminded_for=(f"due-{due.isoformat()}",)))
    assert next_steps(plan, reminded, TODAY + timedelta(days=12), RULES) == []  # once


def test_charged_on_the_due_date_once() -> None:
    plan = pay_in_4()
    due = TODAY + timedelta(days=14)
    assert next_steps(plan, empty(plan), due, RULES) == [Step(StepKind.CHARGE, 2, 2_500, due, attempt=1)]
    plan.take_payment(2_500, "EUR", due)
    assert next_steps(plan, empty(plan), due, RULES) == []  # paid: nothing more


def test_a_failure_is_retried_on_its_schedule_with_a_reminder_before_each_retry() -> None:
    plan = pay_in_4()
    due = TODAY + timedelta(days=14)
    assert next_attempt_on(due, 1, RULES) == due + timedelta(days=1)
    assert next_attempt_on(due, 3, RULES) == due + timedelta(days=7)
    assert next_attempt_on(due, 4, RULES) is None  # retries exhausted
    failed_twice = empty(plan).with_installment(
        InstallmentCollection(2, attempts=2, next_attempt_on=due + timedelta(days=3), last_decline="insufficient_funds")
    )
    assert next_steps(plan, failed_twice, due + timedelta(days=1), RULES) == []
    retry = due + timedelta(days=3)
    assert next_steps(plan, failed_twice, due + timedelta(days=2), RULES) == [
        Step(StepKind.REMIND_RETRY, 2, 2_500, retry)
    ]
    assert next_steps(plan, failed_twice, retry, RULES) == [Step(StepKind.CHARGE, 2, 2_500, retry, attempt=3)]
    exhausted = empty(plan).with_installment(InstallmentCollection(2, attempts=4, next_attempt_on=None))
    assert [s.sequence for s in next_steps(plan, exhausted, due + timedelta(days=30), RULES)] == [3, 4]


def test_a_plan_that_is_not_active_is_left_alone() -> None:
    plan = Plan(pay_in_4(first_paid=False).terms, pay_in_4(first_paid=False).installments, status=PlanStatus.AUTHORIZED)
    assert next_steps(plan, empty(plan), TODAY + timedelta(days=20), RULES) == []


class RecordingPsp:
    """Charges answered by card behaviour; a repeated idempotency key gets the first answer."""

    def __init__(self, decline: set[str] | None = None) -> None:
        self.decline = decline or set()
        self.answers: dict[str, ChargeResult] = {}
        self.charges: list[str] = []
        self.refunds: list[tuple[str, int, str]] = []
        self.while_charging: Any = None  # what happens elsewhere between a charge and its record

    async def get_charge(self, charge_id: str) -> ChargeResult:
        first = next(r for r in self.answers.values() if r.charge_id == charge_id)
        return replace(first, status=self.settled) if first.status is ChargeStatus.PROCESSING else first

    settled = ChargeStatus.PROCESSING  # what a debit has become when asked again

    async def refund(self, *, charge_id: str, amount: Money, idempotency_key: str) -> Any:
        self.refunds.append((charge_id, amount.amount, idempotency_key))
        return type("Refund", (), {"id": f"re_{len(self.refunds)}"})()

    async def charge(
        self, *, customer_id: str, payment_method_id: str, amount: Money, idempotency_key: str, description: str
    ) -> ChargeResult:
        if idempotency_key in self.answers:
            return self.answers[idempotency_key]
        self.charges.append(idempotency_key)
        if payment_method_id in self.decline:
            result = ChargeResult(f"pi_{len(self.charges)}", ChargeStatus.FAILED, amount, "insufficient_funds")
        elif payment_method_id.startswith("pm_sepa"):  # a debit: settled later
            result = ChargeResult(f"pi_{len(self.charges)}", ChargeStatus.PROCESSING, amount)
        else:
            result = ChargeResult(f"pi_{len(self.charges)}", ChargeStatus.SUCCEEDED, amount)
        self.answers[idempotency_key] = result
        if self.while_charging is not None:
            hook, self.while_charging = self.while_charging, None
            await hook()
        return result


class Texts:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send_sms(self, to: str, body: str) -> None:
        self.sent.append((to, body))


def test_one_pass_charges_retries_and_never_charges_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> None:
        store = SqliteStore(tmp_path / "credit.sqlite3")
        plan = pay_in_4(first_paid=False)
        method = SavedMethod("pm_poor", "card", "visa", "9995", 12, 2034, NOW)
        await store.save_payment_profile(PaymentProfile("ana", "cus_1", method=method))

        async def phone(customer_id: str, application_id: str) -> Any:
            return type("Record", (), {"profile": {"phoneNumber": "+34600111222"}})()

        monkeypatch.setattr(store, "get_decision_record", phone)
        psp = RecordingPsp(decline={"pm_poor"})
        texts = Texts()
        clock = FixedClock(NOW)
        collector = Collector(psp, return_origins=())  # type: ignore[arg-type]
        run = Collection(store, collector, load_catalog(), clock, sms=texts, rules=RULES)
        await _store_plan(store, plan)

        assert await run.run() == 0  # the first part is due today: declined
        assert await run.run() == 0  # again the same day: no new attempt
        assert psp.charges == ["installment-plan-1-1"]
        assert [b for _, b in texts.sent if "could not charge" in b] and all(t == "+34600111222" for t, _ in texts.sent)

        await store.save_payment_profile(
            PaymentProfile("ana", "cus_1", method=replace(method, payment_method_id="pm_ok", last4="4242"))
        )
        clock.set(NOW + timedelta(days=1))  # the retry's day
        assert await run.run() == 1
        assert await run.run() == 0
        assert psp.charges == ["installment-plan-1-1", "installment-plan-1-1-attempt-2"]
        stored = await store.get_plan("ana", "plan-1")
        assert stored is not None and stored.installments[0].unpaid == 0
        payments = await store.list_payments("ana", "plan-1")
        assert [(p.source, p.psp_charge_id) for p in payments] == [(PaymentSource.SCHEDULED, "pi_2")]

    asyncio.run(scenario())


async def _store_plan(store: SqliteStore, plan: Plan) -> None:
    """Write a plan directly (the confirmation path is tested elsewhere)."""
    from bnpl_credit.storage.documents import dumps, plan_doc

    def run(conn: Any) -> None:
        conn.execute(
            "INSERT INTO plans (id, customer_id, application_id, merchant_id, order_reference, created_at, status,"
            " version, doc) VALUES (?, ?, ?, ?, ?, ?, 'ACTIVE', 1, ?)",
            (
                plan.id,
                plan.customer_id,
                plan.terms.application_id,
                plan.terms.merchant_id,
                plan.terms.order_reference,
                NOW.isoformat(),
                dumps(plan_doc(plan)),
            ),
        )

    await store._db.write(run)


def test_a_refund_is_spread_over_charges_newest_first_after_earlier_refunds() -> None:
    def paid(n: int, amount: int) -> Payment:
        return Payment(
            f"p{n}", "ana", "plan-1", amount, "EUR", PaymentSource.SCHEDULED, NOW + timedelta(days=n), (), f"pi_{n}"
        )

    charges = [paid(1, 2_500), paid(2, 2_500), paid(3, 2_500)]
    assert [(p.id, a) for p, a in spread(charges, 0, 3_000)] == [("p3", 2_500), ("p2", 500)]
    assert [(p.id, a) for p, a in spread(charges, 3_000, 3_000)] == [("p2", 2_000), ("p1", 1_000)]
    assert spread(charges, 7_500, 100) == []


def test_settings_refuse_collection_off_in_aws_and_parse_retry_days() -> None:
    assert CollectionSettings(bnpl_env="test").collects is False
    assert CollectionSettings(bnpl_env="local").collects is True
    assert CollectionSettings(bnpl_env="test", payment_collection="psp").collects is True
    with pytest.raises(ValidationError, match="refused"):
        CollectionSettings(bnpl_env="aws", payment_collection="off")
    assert CollectionSettings(collection_retry_days="2,4").collection_retry_days == (2, 4)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        CollectionSettings(collection_retry_days="1,-3")  # type: ignore[arg-type]


def _scheduler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, psp: RecordingPsp, clock: FixedClock) -> Any:
    store = SqliteStore(tmp_path / "credit.sqlite3")

    async def phone(customer_id: str, application_id: str) -> Any:
        return type("Record", (), {"profile": {"phoneNumber": "+34600111222"}})()

    monkeypatch.setattr(store, "get_decision_record", phone)
    collector = Collector(psp, return_origins=())  # type: ignore[arg-type]
    return store, Collection(store, collector, load_catalog(), clock, sms=Texts(), rules=RULES)


def test_two_schedulers_at_once_charge_and_record_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> None:
        psp = RecordingPsp()
        clock = FixedClock(NOW + timedelta(days=14))
        store, run = _scheduler(tmp_path, monkeypatch, psp, clock)
        await store.save_payment_profile(
            PaymentProfile("ana", "cus_1", method=SavedMethod("pm_ok", "card", "visa", "4242", 12, 2034, NOW))
        )
        await _store_plan(store, pay_in_4())
        await asyncio.gather(run.run(), run.run())
        assert psp.charges == ["installment-plan-1-2"]
        payments = await store.list_payments("ana", "plan-1")
        assert [(p.amount, p.psp_charge_id) for p in payments if p.source is PaymentSource.SCHEDULED] == [
            (2_500, "pi_1")
        ]
        assert psp.refunds == []

    asyncio.run(scenario())


def test_a_charge_the_plan_no_longer_owes_goes_back_to_the_card(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> None:
        psp = RecordingPsp()
        clock = FixedClock(NOW + timedelta(days=14))
        store, run = _scheduler(tmp_path, monkeypatch, psp, clock)
        await store.save_payment_profile(
            PaymentProfile("ana", "cus_1", method=SavedMethod("pm_ok", "card", "visa", "4242", 12, 2034, NOW))
        )
        await _store_plan(store, pay_in_4())

        async def shopper_pays_everything_by_hand() -> None:
            plan = await store.get_plan("ana", "plan-1")
            assert plan is not None
            allocations = plan.take_payment(7_500, "EUR", clock.now().date())
            paid = Payment("p-hand", "ana", "plan-1", 7_500, "EUR", PaymentSource.SHOPPER, clock.now(), allocations)
            await store.update_plan(plan, payments=[paid], idempotency=None, events=[])

        psp.while_charging = shopper_pays_everything_by_hand
        assert await run.run() == 1
        stored = await store.get_plan("ana", "plan-1")
        assert stored is not None and stored.status is PlanStatus.COMPLETED
        assert [p.source for p in await store.list_payments("ana", "plan-1")] == [PaymentSource.SHOPPER]
        assert psp.refunds == [("pi_1", 2_500, "refund-unowed-pi_1")]

    asyncio.run(scenario())


def test_a_debit_still_settling_is_asked_again_and_recorded_once_settled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> None:
        psp = RecordingPsp()
        clock = FixedClock(NOW + timedelta(days=14))
        store, run = _scheduler(tmp_path, monkeypatch, psp, clock)
        method = SavedMethod("pm_sepa_1", "sepa_debit", "sepa_debit", "3000", None, None, NOW)
        await store.save_payment_profile(PaymentProfile("ana", "cus_1", method=method))
        await _store_plan(store, pay_in_4())
        assert await run.run() == 0  # processing: nothing recorded, no failure
        assert [p.source for p in await store.list_payments("ana", "plan-1")] == []
        psp.settled = ChargeStatus.SUCCEEDED
        assert await run.run() == 1
        assert psp.charges == ["installment-plan-1-2"]  # the same debit, asked again
        payments = await store.list_payments("ana", "plan-1")
        assert [(p.source, p.psp_charge_id) for p in payments] == [(PaymentSource.SCHEDULED, "pi_1")]

    asyncio.run(scenario())


class UnavailableFirst(RecordingPsp):
    """Refunds fail (PSP unavailable) ``failures`` times, then go through."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures
        self.asked: list[str] = []

    async def refund(self, *, charge_id: str, amount: Money, idempotency_key: str) -> Any:
        self.asked.append(idempotency_key)
        if self.failures > 0:
            self.failures -= 1
            raise PspUnavailable("the PSP did not answer")
        self.refunds.append((charge_id, amount.amount, idempotency_key))
        return PspRefund(f"re_{len(self.refunds)}", charge_id, amount, RefundStatus.SUCCEEDED)


def test_a_refund_the_psp_did_not_take_is_sent_again_with_the_same_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> None:
        psp = UnavailableFirst(failures=2)
        clock = FixedClock(NOW + timedelta(days=1))
        store, run = _scheduler(tmp_path, monkeypatch, psp, clock)
        await _store_plan(store, pay_in_4(first_paid=False))
        plan = await store.get_plan("ana", "plan-1")
        assert plan is not None
        allocations = plan.take_payment(2_500, "EUR", clock.now().date())
        charge = Payment(
            "p-1", "ana", "plan-1", 2_500, "EUR", PaymentSource.SCHEDULED, NOW, allocations, psp_charge_id="pi_1"
        )
        await store.update_plan(plan, payments=[charge], idempotency=None, events=[])
        refund = Refund(
            "r-1", "ana", "plan-1", "shop", "o-1", 1_000, "EUR", "damaged", False, (), 1_000,
            PlanStatus.ACTIVE, 6_500, clock.now(), "key-1",
        )  # fmt: skip
        collector = Collector(psp, return_origins=())  # type: ignore[arg-type]
        assert (
            await return_to_method(store, collector, clock, customer_id="ana", plan_id="plan-1", refunds=[refund]) == 0
        )
        assert [p.key for p in await store.list_pending_refunds()] == ["refund-r-1-pi_1"]
        await run.run()  # still unavailable: kept
        assert psp.refunds == [] and len(await store.list_pending_refunds()) == 1
        await run.run()
        await run.run()  # nothing left to send: not sent twice
        assert psp.asked == ["refund-r-1-pi_1"] * 3
        assert psp.refunds == [("pi_1", 1_000, "refund-r-1-pi_1")]
        assert await store.list_pending_refunds() == []
        events = [e for e in await store.pending_events(limit=100) if e.type is EventType.PAYMENT_REFUNDED]
        assert [(e.data["refundId"], e.data["amount"]) for e in events] == [
            ("r-1", {"amount": 1_000, "currency": "EUR"})
        ]

    asyncio.run(scenario())
