"""Staff waive a plan's late fees with a reason (approvers). The plan (its fees marked as of
today first, then waived), the audit record, the events and the idempotency key are one
transaction: no waiver without its record."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

from bnpl_common.clock import Clock
from bnpl_common.errors import PreconditionFailed, ValidationFailed
from bnpl_common.idempotency import StoredResponse, check_key, ensure_same_request, fingerprint
from bnpl_common.jwt import Principal
from bnpl_common.retry import retry_on_contention

from bnpl_credit.audit.model import AuditAction, AuditRecord, customer_subject, plan_subject
from bnpl_credit.errors import PlanNotFound
from bnpl_credit.events.model import Event, EventType
from bnpl_credit.idempotency import IdempotencyStore, NewIdempotency
from bnpl_credit.markets.catalog import MarketCatalog
from bnpl_credit.plans.events import installments_late
from bnpl_credit.plans.ledger import late_fee_terms
from bnpl_credit.plans.ports import PlanStore
from bnpl_credit.plans.schemas import PaymentPlan
from bnpl_credit.reviews.ports import ReviewStore

log = logging.getLogger("bnpl.credit.plans")

REASON_MIN, REASON_MAX = 5, 500


class NoLateFee(PreconditionFailed):
    error_type = "NoLateFee"


class WaiverStore(ReviewStore, PlanStore, IdempotencyStore, Protocol):
    """What a waiver reads and writes."""


async def waive_late_fee(
    store: WaiverStore,
    markets: MarketCatalog,
    clock: Clock,
    staff: Principal,
    *,
    plan_id: str,
    installment: int | None,
    reason: str,
    idempotency_key: str | None,
) -> StoredResponse:
    """Waive the unpaid late fee of one installment (``installment``) or of all; 412
    ``NoLateFee`` when there is none to waive."""
    key = check_key(idempotency_key)
    reason = reason.strip()
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        raise ValidationFailed(f"say why, in {REASON_MIN} to {REASON_MAX} characters", field="reason")
    request_fp = fingerprint({"op": "waive", "planId": plan_id, "installment": installment, "reason": reason})
    scope = f"staff:{staff.sub}"

    async def attempt() -> StoredResponse:
        now: datetime = clock.now()
        stored = await store.get_idempotent(scope, key, now=now)
        if stored is not None:
            ensure_same_request(stored.fingerprint, request_fp)
            return stored
        plan = await store.find_plan(plan_id)
        if plan is None:
            raise PlanNotFound("no such plan", field="planId")
        if installment is not None and installment not in {i.sequence for i in plan.installments}:
            raise ValidationFailed("the plan has no such installment", field="installmentId")
        today = now.date()
        fees = late_fee_terms(markets, plan)
        marked = plan.mark_late(today, fees)
        waived = plan.waive_late_fees(today, sequence=installment)
        if not waived:
            raise NoLateFee("there is no unpaid late fee to waive", field="installmentId" if installment else "planId")
        currency = plan.currency
        waived_json = [{"sequence": seq, "amount": {"amount": amount, "currency": currency}} for seq, amount in waived]
        audit = AuditRecord.new(
            at=now,
            actor=staff.sub,
            actor_groups=staff.groups,
            action=AuditAction.LATE_FEE_WAIVED,
            subjects=(plan_subject(plan.id), customer_subject(plan.customer_id)),
            reason=reason,
            details={"waived": waived_json},
        )
        event = Event.new(
            EventType.LATE_FEE_WAIVED,
            now=now,
            customer_id=plan.customer_id,
            data={"planId": plan.id, "waived": waived_json, "planStatus": str(plan.status)},
        )
        body = {
            "plan": PaymentPlan.as_of(plan, today, fees).to_json(),
            "waived": waived_json,
        }
        winner = await store.save_staff_plan_change(
            plan,
            audit=[audit],
            events=[*installments_late(plan, marked, now), event],
            idempotency=NewIdempotency(scope, key, request_fp, 201, body, now),
        )
        if winner is not None:
            ensure_same_request(winner.fingerprint, request_fp)
            return winner
        log.info("late fee waived", extra={"plan_id": plan.id})
        return StoredResponse(request_fp, 201, body)

    return await retry_on_contention(attempt)
