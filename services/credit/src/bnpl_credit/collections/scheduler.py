"""The scheduler: due installments charged to the saved method on their due date, failures
retried on a schedule, the shopper told by SMS before the due date, on a failure and before
each retry.

:func:`next_steps` is pure (what to do for one plan today); :func:`collect_once` does it.
Running it twice never charges twice: a charge's idempotency key is the installment's (and the
attempt's, for a retry after a decline), the PSP answers a repeated key with the first result,
and the plan is written conditioned on the version read. Lateness and its fee stay the
lateness sweeper's (``plans.service.sweep_lateness``): only after the market's grace period.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from bnpl_common.clock import Clock
from bnpl_common.money import CURRENCY_EXPONENTS, Money

from bnpl_credit.applications.ports import ApplicationStore
from bnpl_credit.collections.model import InstallmentCollection, PaymentProfile, PlanCollection
from bnpl_credit.collections.ports import PaymentStore
from bnpl_credit.collections.refunds import retry_pending_refunds
from bnpl_credit.collections.service import Collector, charge_installment
from bnpl_credit.errors import ConcurrentUpdate
from bnpl_credit.events.model import Event, EventType
from bnpl_credit.markets.catalog import MarketCatalog
from bnpl_credit.plans.events import completion, installments_late, payment_applied
from bnpl_credit.plans.ledger import Plan, late_fee_terms
from bnpl_credit.plans.model import Payment, PaymentSource, PlanStatus
from bnpl_credit.plans.ports import PlanStore
from bnpl_credit.psp.errors import PspUnavailable
from bnpl_credit.psp.records import ChargeResult, ChargeStatus
from bnpl_credit.reviews.notify import Sms

log = logging.getLogger("bnpl.credit.collections")


class SchedulerStore(PlanStore, PaymentStore, ApplicationStore, Protocol):
    """What the scheduler reads and writes."""


@dataclass(frozen=True, slots=True)
class CollectionRules:
    retry_days: tuple[int, ...] = (1, 3, 7)  # days after the due date a failed charge is tried again
    reminder_days: int = 3  # days before the due date the shopper is reminded


class StepKind(StrEnum):
    REMIND_DUE = "REMIND_DUE"
    REMIND_RETRY = "REMIND_RETRY"
    CHARGE = "CHARGE"


@dataclass(frozen=True, slots=True)
class Step:
    kind: StepKind
    sequence: int
    amount: int
    on: date  # the due date (REMIND_DUE, CHARGE) or the retry's date (REMIND_RETRY)
    attempt: int = 1


def next_attempt_on(due: date, attempts: int, rules: CollectionRules) -> date | None:
    """After ``attempts`` failed charges, when the next one is made (None: no more retries)."""
    if attempts < 1 or attempts > len(rules.retry_days):
        return None
    return due + timedelta(days=rules.retry_days[attempts - 1])


def next_steps(plan: Plan, collection: PlanCollection, today: date, rules: CollectionRules) -> list[Step]:
    """What to do today for ``plan``'s unpaid installments, oldest first."""
    if plan.status is not PlanStatus.ACTIVE:
        return []
    steps: list[Step] = []
    for inst in plan.installments:
        if inst.unpaid <= 0:
            continue
        record = collection.of(inst.sequence)
        if today < inst.due_date:
            tag = f"due-{inst.due_date.isoformat()}"
            if (inst.due_date - today).days <= rules.reminder_days and tag not in record.reminded_for:
                steps.append(Step(StepKind.REMIND_DUE, inst.sequence, inst.unpaid, inst.due_date))
            continue
        if record.attempts == 0:
            steps.append(Step(StepKind.CHARGE, inst.sequence, inst.unpaid, inst.due_date, attempt=1))
            continue
        retry_on = record.next_attempt_on
        if retry_on is None:
            continue  # retries exhausted: late until the shopper pays in "My plans"
        if today >= retry_on:
            steps.append(Step(StepKind.CHARGE, inst.sequence, inst.unpaid, retry_on, attempt=record.attempts + 1))
        elif (retry_on - today).days <= 1 and f"retry-{retry_on.isoformat()}" not in record.reminded_for:
            steps.append(Step(StepKind.REMIND_RETRY, inst.sequence, inst.unpaid, retry_on))
    return steps


def _money(amount: int, currency: str) -> str:
    exponent = CURRENCY_EXPONENTS.get(currency, 2)
    return f"{amount / 10**exponent:.{exponent}f} {currency}"


def _event(kind: EventType, plan: Plan, now: datetime, **data: object) -> Event:
    return Event.new(kind, now=now, customer_id=plan.customer_id, data={"planId": plan.id, **data})


class Collection:
    """One pass of the scheduler over the open plans."""

    def __init__(
        self,
        store: SchedulerStore,
        collector: Collector,
        markets: MarketCatalog,
        clock: Clock,
        *,
        sms: Sms | None,
        rules: CollectionRules,
    ) -> None:
        self._store = store
        self._collector = collector
        self._markets = markets
        self._clock = clock
        self._sms = sms
        self._rules = rules

    async def run(self) -> int:
        """Charge what is due, remind what is coming, send again the refunds the PSP did not
        take; how many charges succeeded."""
        try:
            await retry_pending_refunds(self._store, self._collector, self._clock)
        except Exception as exc:  # the charges go on; the refunds are tried again next run
            log.warning("refund retries failed", extra={"error_class": type(exc).__name__})
        charged = 0
        for plan in await self._store.list_open_plans():
            try:
                charged += await self._plan(plan)
            except ConcurrentUpdate:
                continue  # moved meanwhile (a payment, a refund, another scheduler): looked at again next time
            except PspUnavailable:
                log.warning("psp unavailable; charges are tried again next run", extra={"plan_id": plan.id})
                return charged
        return charged

    async def _plan(self, plan: Plan) -> int:
        today = self._clock.now().date()
        collection = await self._store.get_plan_collection(plan.id) or PlanCollection(plan.id, plan.customer_id)
        steps = next_steps(plan, collection, today, self._rules)
        if not steps:
            return 0
        profile = await self._store.get_payment_profile(plan.customer_id)
        charged = 0
        for step in steps:
            if step.kind is StepKind.CHARGE:
                if profile is None or profile.method is None:
                    continue  # no method on file: the installment goes late; the shopper pays by hand
                ok, collection = await self._charge(plan, collection, profile, step)
                charged += ok
                if ok:
                    plan = await self._store.get_plan(plan.customer_id, plan.id) or plan
                else:
                    break  # the card was declined: the next installments wait for its retry
            else:
                collection = await self._remind(plan, collection, profile, step)
        return charged

    async def _charge(
        self, plan: Plan, collection: PlanCollection, profile: PaymentProfile, step: Step
    ) -> tuple[int, PlanCollection]:
        now = self._clock.now()
        result = await charge_installment(
            self._collector,
            profile,
            plan_id=plan.id,
            sequence=step.sequence,
            amount=Money(amount=step.amount, currency=plan.currency),
            attempt=step.attempt,
        )
        if result.status is ChargeStatus.PROCESSING:
            # SEPA: the same key replays the first answer; where the debit stands now is asked
            result = await self._collector.psp.get_charge(result.charge_id)
        record = collection.of(step.sequence)
        if result.status is ChargeStatus.SUCCEEDED:
            await self._apply(plan, result, step, now)
            done = replace(record, attempts=step.attempt, next_attempt_on=None, last_decline=None)
            return 1, await self._save(collection.with_installment(done))
        if result.status is ChargeStatus.PROCESSING:
            return 0, collection  # SEPA: still settling; asked again on the next run
        decline = result.decline_code or str(result.status).lower()
        inst = next(i for i in plan.installments if i.sequence == step.sequence)
        retry_on = next_attempt_on(inst.due_date, step.attempt, self._rules)
        failed = replace(record, attempts=step.attempt, next_attempt_on=retry_on, last_decline=decline)
        events = [
            _event(
                EventType.INSTALLMENT_CHARGE_FAILED,
                plan,
                now,
                sequence=step.sequence,
                attempt=step.attempt,
                declineCode=decline,
                amount={"amount": step.amount, "currency": plan.currency},
            )
        ]
        if retry_on is not None:
            events.append(
                _event(
                    EventType.INSTALLMENT_RETRY_SCHEDULED,
                    plan,
                    now,
                    sequence=step.sequence,
                    attempt=step.attempt + 1,
                    nextAttemptOn=retry_on.isoformat(),
                )
            )
        # the events first, conditioned on the plan's version: of two schedulers only one goes on
        await self._store.update_plan(plan, idempotency=None, events=events)
        saved = await self._save(collection.with_installment(failed))
        assert profile.method is not None
        card = f"your card ending {profile.method.last4}"
        then = (
            f" We will try again on {retry_on.isoformat()}."
            if retry_on
            else " Please pay it in My plans to avoid late fees."
        )
        await self._tell(
            plan, f"We could not charge {_money(step.amount, plan.currency)} to {card} ({decline}).{then}", "failure"
        )
        return 0, saved

    async def _apply(self, plan: Plan, result: ChargeResult, step: Step, now: datetime) -> None:
        """Record a successful charge on the plan, once per charge id (another scheduler may have
        recorded it). Lost a race (a payment by hand, a refund): read again and record it on what
        is owed then; what the plan no longer owes goes back to the card."""
        charged = result.amount.amount
        for _ in range(5):
            if any(
                p.psp_charge_id == result.charge_id for p in await self._store.list_payments(plan.customer_id, plan.id)
            ):
                return  # recorded already
            try:
                await self._record(plan, result, step, now)
                return
            except ConcurrentUpdate:
                fresh = await self._store.get_plan(plan.customer_id, plan.id)
                if fresh is None:
                    break
                plan = fresh
        else:
            raise ConcurrentUpdate("the plan kept changing; the charge is recorded on the next run", field="planId")
        await self._give_back(plan, result, charged)

    async def _record(self, plan: Plan, result: ChargeResult, step: Step, now: datetime) -> None:
        today = now.date()
        owed = plan.totals().amount_outstanding if plan.status is PlanStatus.ACTIVE else 0
        amount = min(result.amount.amount, owed)
        if amount == 0:
            await self._give_back(plan, result, result.amount.amount)
            return
        marked = plan.mark_late(today, late_fee_terms(self._markets, plan))
        was = plan.status
        amount = min(amount, plan.totals().amount_outstanding)
        payment = Payment(
            id=str(uuid.uuid4()),
            customer_id=plan.customer_id,
            plan_id=plan.id,
            amount=amount,
            currency=plan.currency,
            source=PaymentSource.SCHEDULED,
            created_at=now,
            allocations=plan.take_payment(amount, plan.currency, today),
            psp_charge_id=result.charge_id,
        )
        events = [
            *installments_late(plan, marked, now),
            payment_applied(payment, plan, now),
            _event(
                EventType.INSTALLMENT_CHARGED,
                plan,
                now,
                sequence=step.sequence,
                attempt=step.attempt,
                amount={"amount": amount, "currency": plan.currency},
            ),
            *completion(plan, was, now),
        ]
        await self._store.update_plan(plan, payments=[payment], idempotency=None, events=events)
        if amount < result.amount.amount:
            await self._give_back(plan, result, result.amount.amount - amount)

    async def _give_back(self, plan: Plan, result: ChargeResult, amount: int) -> None:
        """A charge the plan no longer owed (paid meanwhile): refunded to the card, once."""
        refund = await self._collector.psp.refund(
            charge_id=result.charge_id,
            amount=Money(amount=amount, currency=plan.currency),
            idempotency_key=f"refund-unowed-{result.charge_id}",
        )
        log.warning("charge not owed: refunded", extra={"plan_id": plan.id, "psp_refund_id": refund.id})

    async def _remind(
        self, plan: Plan, collection: PlanCollection, profile: PaymentProfile | None, step: Step
    ) -> PlanCollection:
        record = collection.of(step.sequence)
        card = f"your card ending {profile.method.last4}" if profile and profile.method else "your payment method"
        amount = _money(step.amount, plan.currency)
        if step.kind is StepKind.REMIND_DUE:
            tag = f"due-{step.on.isoformat()}"
            text = f"Your installment of {amount} is due on {step.on.isoformat()}; it will be charged to {card}."
        else:
            tag = f"retry-{step.on.isoformat()}"
            text = f"We will try again to charge {amount} to {card} on {step.on.isoformat()}."
        saved = await self._save(collection.with_installment(replace(record, reminded_for=(*record.reminded_for, tag))))
        await self._tell(plan, text, "reminder")  # after the record: a crash skips a reminder, never repeats one
        return saved

    async def _save(self, collection: PlanCollection) -> PlanCollection:
        await self._store.save_plan_collection(collection)
        return replace(collection, version=collection.version + 1)

    async def _tell(self, plan: Plan, text: str, kind: str) -> None:
        """Best effort; the log names the plan and the kind, never the number or the text."""
        if self._sms is None:
            return
        record = await self._store.get_decision_record(plan.customer_id, plan.terms.application_id)
        phone = record.profile.get("phoneNumber") if record else None
        if not isinstance(phone, str) or not phone:
            log.info("collection sms not sent", extra={"plan_id": plan.id, "kind": kind, "reason": "no number"})
            return
        try:
            await self._sms.send_sms(phone, text)
        except Exception as exc:  # the charge stands either way
            log.warning("collection sms failed", extra={"plan_id": plan.id, "error_class": type(exc).__name__})
            return
        log.info("collection sms sent", extra={"plan_id": plan.id, "kind": kind})


def rules_of(retry_days: Sequence[int], reminder_days: int) -> CollectionRules:
    return CollectionRules(retry_days=tuple(retry_days), reminder_days=reminder_days)


__all__ = [
    "Collection",
    "CollectionRules",
    "InstallmentCollection",
    "Step",
    "StepKind",
    "next_attempt_on",
    "next_steps",
    "rules_of",
]
