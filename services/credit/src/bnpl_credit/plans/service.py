"""Payment plans: confirming an approval into a plan, repayments, lateness, the customer's views."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from bnpl_common.clock import Clock
from bnpl_common.idempotency import check_key, ensure_same_request, fingerprint

from bnpl_credit.applications.service import effective_status
from bnpl_credit.decision.offers import money
from bnpl_credit.decision.policy import Policy
from bnpl_credit.decision.schedule import add_months
from bnpl_credit.errors import (
    ApplicationNotFound,
    ConcurrentUpdate,
    CurrencyMismatch,
    InvalidApplicationState,
    Overpayment,
    PlanNotFound,
)
from bnpl_credit.events.outbox import new_event
from bnpl_credit.plans import ledger
from bnpl_credit.plans.schemas import Payment, PaymentInput, PaymentPlan
from bnpl_credit.storage.port import CreditStore, NewIdempotency, PlanRecord, StoredResponse
from bnpl_credit.timefmt import iso

log = logging.getLogger("bnpl.credit.plans")

_WRITE_ATTEMPTS = 5


def plan_view(doc: dict[str, Any], now: datetime, policy: Policy) -> dict[str, Any]:
    """The ``PaymentPlan`` JSON as it stands today (lateness derived, fees shown)."""
    today = now.date()
    grace = policy.late_fees.grace_days
    plan = ledger.with_lateness(doc, today, policy.late_fees)
    cur = plan["currency"]
    t = ledger.totals(plan)
    view = {
        "id": plan["id"],
        "applicationId": plan["applicationId"],
        "status": plan["status"],
        "planType": plan["planType"],
        "merchantId": plan["merchantId"],
        "orderReference": plan["orderReference"],
        "principal": money(plan["principal"], cur),
        "financeCharge": money(plan["financeCharge"], cur),
        "totalOfPayments": money(plan["totalOfPayments"], cur),
        "apr": plan["apr"],
        "aprBasisPoints": plan["aprBasisPoints"],
        "lateFees": money(t["lateFees"], cur),
        "refunded": money(plan.get("refunded", 0), cur),
        "totalDue": money(t["totalDue"], cur),
        "amountPaid": money(t["amountPaid"], cur),
        "amountOutstanding": money(t["amountOutstanding"], cur),
        "returnedToShopper": money(t["returnedToShopper"], cur),
        "installments": [
            {
                "sequence": i["sequence"],
                "dueDate": i["dueDate"],
                "amount": money(i["amount"], cur),
                "lateFee": money(i["lateFee"], cur),
                "refunded": money(i["credited"], cur),
                "amountDue": money(ledger.due(i), cur),
                "amountPaid": money(ledger.net_paid(i), cur),
                "status": ledger.installment_status(i, today, grace),
                "lateSince": i.get("lateAt"),
            }
            for i in plan["installments"]
        ],
        "createdAt": plan["createdAt"],
    }
    return PaymentPlan.model_validate(view).model_dump(by_alias=True, mode="json")


def _due_dates(policy: Policy, plan_type: str, count: int, start: date) -> list[date]:
    plan = policy.plan(plan_type)
    if plan.kind == "split":
        step = plan.interval_days or 14
        return [start + timedelta(days=step * i) for i in range(count)]
    return [add_months(start, i + 1) for i in range(count)]


def _payment_doc(
    plan: dict[str, Any], *, amount: int, allocations: list[dict[str, int]], source: str, now: datetime
) -> dict[str, Any]:
    cur = plan["currency"]
    return {
        "id": str(uuid.uuid4()),
        "customerId": plan["customerId"],
        "planId": plan["id"],
        "amount": money(amount, cur),
        "source": source,
        "createdAt": iso(now),
        "allocations": [{"sequence": a["sequence"], "amount": money(a["amount"], cur)} for a in allocations],
    }


def payment_view(payment: dict[str, Any], plan: dict[str, Any]) -> dict[str, Any]:
    t = ledger.totals(plan)
    body = {
        **payment,
        "planStatus": plan["status"],
        "amountOutstanding": money(t["amountOutstanding"], plan["currency"]),
    }
    return Payment.model_validate(body).model_dump(by_alias=True, mode="json")


def _payment_event(payment: dict[str, Any], plan: dict[str, Any], now: datetime) -> dict[str, Any]:
    return new_event(
        "payment.applied",
        now=now,
        customer_id=plan["customerId"],
        data={
            "planId": plan["id"],
            "paymentId": payment["id"],
            "amount": payment["amount"],
            "source": payment["source"],
            "allocations": payment["allocations"],
            "planStatus": plan["status"],
        },
    )


def late_events(plan: dict[str, Any], marked: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """``installment.late`` events of the installments ``ledger.apply_lateness`` just marked."""
    return [
        new_event(
            "installment.late",
            now=now,
            customer_id=plan["customerId"],
            data={
                "planId": plan["id"],
                "sequence": m["sequence"],
                "dueDate": m["dueDate"],
                "lateFee": money(m["lateFee"], plan["currency"]),
            },
        )
        for m in marked
    ]


async def confirm_application(
    store: CreditStore,
    policy: Policy,
    clock: Clock,
    customer_id: str,
    *,
    application_id: str,
    idempotency_key: str | None,
) -> StoredResponse:
    """Turn a held approval into an active plan; a pay-in-4 plan's first part is taken now."""
    key = check_key(idempotency_key)
    request_fp = fingerprint({"op": "confirm", "applicationId": application_id})
    now = clock.now()
    stored = await store.get_idempotent(customer_id, key, now=now)
    if stored is not None:
        ensure_same_request(stored.fingerprint, request_fp)
        return stored
    app = await store.get_application(customer_id, application_id)
    if app is None:
        raise ApplicationNotFound("no such application", field="applicationId")
    status = effective_status(app, now)
    if status != "APPROVED" or app.get("offer") is None:
        raise InvalidApplicationState(
            f"an application that is {status} cannot be confirmed", field="applicationId", info={"status": status}
        )
    offer = app["offer"]
    currency = app["amount"]["currency"]
    plan_policy = policy.plan(app["planType"])
    dates = _due_dates(policy, app["planType"], len(offer["installments"]), now.date())
    plan_id = str(uuid.uuid4())
    plan: dict[str, Any] = {
        "id": plan_id,
        "customerId": customer_id,
        "applicationId": application_id,
        "status": "ACTIVE",
        "planType": app["planType"],
        "merchantId": app["merchantId"],
        "orderReference": app["orderReference"],
        "currency": currency,
        "principal": offer["amountFinanced"]["amount"],
        "financeCharge": offer["financeCharge"]["amount"],
        "totalOfPayments": offer["totalOfPayments"]["amount"],
        "apr": offer["apr"],
        "aprBasisPoints": offer["aprBasisPoints"],
        "refunded": 0,
        "installments": [
            {
                "sequence": inst["sequence"],
                "dueDate": d.isoformat(),
                "amount": inst["amount"]["amount"],
                "lateFee": 0,
                "credited": 0,
                "paid": 0,
                "returned": 0,
                "lateAt": None,
            }
            for inst, d in zip(offer["installments"], dates, strict=True)
        ],
        "createdAt": iso(now),
    }
    records: list[PlanRecord] = []
    events = [
        new_event(
            "plan.activated",
            now=now,
            customer_id=customer_id,
            data={
                "planId": plan_id,
                "applicationId": application_id,
                "planType": plan["planType"],
                "merchantId": plan["merchantId"],
                "orderReference": plan["orderReference"],
                "principal": offer["amountFinanced"],
                "totalOfPayments": offer["totalOfPayments"],
            },
        )
    ]
    if plan_policy.kind == "split":  # pay in 4: the first part is due, and taken, at confirmation
        first = plan["installments"][0]["amount"]
        allocations = ledger.allocate_payment(plan, first, now.date())
        payment = _payment_doc(plan, amount=first, allocations=allocations, source="CONFIRMATION", now=now)
        records.append(PlanRecord("payment", payment))
        events.append(_payment_event(payment, plan, now))
    body = plan_view(plan, now, policy)
    winner = await store.confirm(
        plan=plan,
        application_update={"status": "CONFIRMED", "planId": plan_id, "confirmedAt": iso(now)},
        not_expired_at=iso(now),
        idempotency=NewIdempotency(customer_id, key, request_fp, 201, body, now),
        records=records,
        events=events,
    )
    if winner is not None:
        ensure_same_request(winner.fingerprint, request_fp)
        return winner
    log.info("plan activated", extra={"application_id": application_id, "plan_id": plan_id})
    return StoredResponse(request_fp, 201, body)


async def get_plan(
    store: CreditStore, policy: Policy, clock: Clock, customer_id: str, *, plan_id: str
) -> dict[str, Any]:
    found = await store.get_plan(customer_id, plan_id)
    if found is None:
        raise PlanNotFound("no such plan", field="planId")
    return plan_view(found[0], clock.now(), policy)


async def list_plans(store: CreditStore, policy: Policy, clock: Clock, customer_id: str) -> dict[str, Any]:
    now = clock.now()
    return {"items": [plan_view(p, now, policy) for p in await store.list_plans(customer_id)]}


@dataclass(frozen=True, slots=True)
class PlanChange:
    """One change of a plan, built on the plan as read: the new plan (ledger applied), the
    version it was read at, its payment/refund records, events and the response to give."""

    plan: dict[str, Any]
    version: int
    records: list[PlanRecord]
    events: list[dict[str, Any]]
    response: dict[str, Any]


async def change_plan_once(
    store: CreditStore,
    clock: Clock,
    *,
    scope: str,
    key: str,
    request_fp: str,
    build: Callable[[datetime], Awaitable[PlanChange]],
) -> tuple[StoredResponse, bool]:
    """Apply a plan change once per idempotency key: a retry gets the first response, the same
    key with another request is refused, and a change that lost the optimistic-version race
    is built again on the fresh plan. Returns the response and whether this call wrote it."""
    for attempt in range(_WRITE_ATTEMPTS):
        now = clock.now()
        stored = await store.get_idempotent(scope, key, now=now)
        if stored is not None:
            ensure_same_request(stored.fingerprint, request_fp)
            return stored, False
        change = await build(now)
        try:
            winner = await store.update_plan(
                plan=change.plan,
                expected_version=change.version,
                records=change.records,
                idempotency=NewIdempotency(scope, key, request_fp, 201, change.response, now),
                events=change.events,
            )
        except ConcurrentUpdate:
            if attempt == _WRITE_ATTEMPTS - 1:
                raise
            continue
        if winner is not None:
            ensure_same_request(winner.fingerprint, request_fp)
            return winner, False
        return StoredResponse(request_fp, 201, change.response), True
    raise ConcurrentUpdate("the plan changed meanwhile; try again", field="planId")  # pragma: no cover


async def make_payment(
    store: CreditStore,
    policy: Policy,
    clock: Clock,
    customer_id: str,
    *,
    plan_id: str,
    body: PaymentInput,
    idempotency_key: str | None,
) -> StoredResponse:
    """A repayment: oldest installment first, partial payments fine, more than is owed refused."""
    key = check_key(idempotency_key)
    request_fp = fingerprint({"op": "payment", "planId": plan_id, "body": body.model_dump(by_alias=True, mode="json")})

    async def build(now: datetime) -> PlanChange:
        found = await store.get_plan(customer_id, plan_id)
        if found is None:
            raise PlanNotFound("no such plan", field="planId")
        plan, version = found
        if body.amount.currency != plan["currency"]:
            raise CurrencyMismatch(f"this plan is in {plan['currency']}", field="amount.currency")
        if plan["status"] != "ACTIVE":
            raise Overpayment(
                f"nothing is owed on a {plan['status']} plan",
                field="amount.amount",
                info={"amountOutstanding": 0, "planStatus": plan["status"]},
            )
        marked = ledger.apply_lateness(plan, now.date(), policy.late_fees)
        outstanding = ledger.totals(plan)["amountOutstanding"]
        if body.amount.amount > outstanding:
            raise Overpayment(
                f"the payment is more than the {outstanding} minor units still owed",
                field="amount.amount",
                info={"amountOutstanding": outstanding},
            )
        allocations = ledger.allocate_payment(plan, body.amount.amount, now.date())
        payment = _payment_doc(plan, amount=body.amount.amount, allocations=allocations, source="SHOPPER", now=now)
        return PlanChange(
            plan=plan,
            version=version,
            records=[PlanRecord("payment", payment)],
            events=[*late_events(plan, marked, now), _payment_event(payment, plan, now)],
            response=payment_view(payment, plan),
        )

    stored, written = await change_plan_once(
        store, clock, scope=customer_id, key=key, request_fp=request_fp, build=build
    )
    if written:
        log.info("payment applied", extra={"plan_id": plan_id, "payment_id": stored.body["id"]})
    return stored


async def sweep_lateness(store: CreditStore, policy: Policy, clock: Clock) -> int:
    """Mark installments that became LATE (fee + ``installment.late``); how many were marked."""
    marked_total = 0
    for plan, version in await store.list_open_plans():
        now = clock.now()
        marked = ledger.apply_lateness(plan, now.date(), policy.late_fees)
        if not marked:
            continue
        try:
            await store.update_plan(
                plan=plan,
                expected_version=version,
                records=[],
                idempotency=None,
                events=late_events(plan, marked, now),
            )
        except ConcurrentUpdate:
            continue  # a payment or refund moved it and marked lateness itself; the next sweep looks again
        marked_total += len(marked)
        log.info("installments late", extra={"plan_id": plan["id"], "count": len(marked)})
    return marked_total


__all__ = [
    "PlanChange",
    "change_plan_once",
    "confirm_application",
    "get_plan",
    "late_events",
    "list_plans",
    "make_payment",
    "sweep_lateness",
]
