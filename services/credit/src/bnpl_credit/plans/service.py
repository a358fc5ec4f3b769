"""Payment plans: confirming an approval into a plan, repayments, the customer's views."""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime, timedelta
from typing import Any

from bnpl_common.clock import Clock
from bnpl_common.idempotency import check_key, ensure_same_request, fingerprint

from bnpl_credit.applications.repository import ApplicationRepository
from bnpl_credit.applications.service import effective_status
from bnpl_credit.db import NewIdempotency, StoredResponse
from bnpl_credit.decision.policy import Policy
from bnpl_credit.decision.schedule import add_months
from bnpl_credit.errors import (
    ApplicationNotFound,
    CurrencyMismatch,
    InvalidApplicationState,
    Overpayment,
    PlanNotFound,
)
from bnpl_credit.plans.repository import PlanRepository
from bnpl_credit.plans.schemas import Payment, PaymentInput, PaymentPlan
from bnpl_credit.timefmt import iso

log = logging.getLogger("bnpl.credit.plans")


def _money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def installment_status(inst: dict[str, Any], today: date) -> str:
    if inst["amountPaid"]["amount"] >= inst["amount"]["amount"]:
        return "PAID"
    return "LATE" if date.fromisoformat(inst["dueDate"]) < today else "DUE"


def plan_view(doc: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The ``PaymentPlan`` JSON; installment status is computed against today."""
    today = now.date()
    view = {k: v for k, v in doc.items() if k != "customerId"}
    view["installments"] = [
        {
            "sequence": i["sequence"],
            "dueDate": i["dueDate"],
            "amount": i["amount"],
            "amountPaid": i["amountPaid"],
            "status": installment_status(i, today),
        }
        for i in doc["installments"]
    ]
    return PaymentPlan.model_validate(view).model_dump(by_alias=True, mode="json")


def _due_dates(policy: Policy, plan_type: str, count: int, start: date) -> list[date]:
    plan = policy.plan(plan_type)
    if plan.kind == "split":
        step = plan.interval_days or 14
        return [start + timedelta(days=step * i) for i in range(count)]
    return [add_months(start, i + 1) for i in range(count)]


async def confirm_application(
    apps: ApplicationRepository,
    plans: PlanRepository,
    policy: Policy,
    clock: Clock,
    customer_id: str,
    *,
    application_id: str,
    idempotency_key: str | None,
) -> StoredResponse:
    """Turn a held approval into a plan; the amounts are the offer's, the dates start today."""
    key = check_key(idempotency_key)
    request_fp = fingerprint({"op": "confirm", "applicationId": application_id})
    stored = await plans.get_idempotent(customer_id, key)
    if stored is not None:
        ensure_same_request(stored.fingerprint, request_fp)
        return stored
    app = await apps.get(customer_id, application_id)
    if app is None:
        raise ApplicationNotFound("no such application", field="applicationId")
    now = clock.now()
    status = effective_status(app, now)
    if status != "APPROVED" or app.get("offer") is None:
        raise InvalidApplicationState(
            f"an application that is {status} cannot be confirmed", field="applicationId", info={"status": status}
        )
    offer = app["offer"]
    currency = app["amount"]["currency"]
    dates = _due_dates(policy, app["planType"], len(offer["installments"]), now.date())
    installments = [
        {
            "sequence": inst["sequence"],
            "dueDate": d.isoformat(),
            "amount": inst["amount"],
            "amountPaid": _money(0, currency),
            "paidLate": False,
        }
        for inst, d in zip(offer["installments"], dates, strict=True)
    ]
    plan_id = str(uuid.uuid4())
    plan = {
        "id": plan_id,
        "customerId": customer_id,
        "applicationId": application_id,
        "status": "ACTIVE",
        "planType": app["planType"],
        "merchantId": app["merchantId"],
        "orderReference": app["orderReference"],
        "principal": offer["amountFinanced"],
        "financeCharge": offer["financeCharge"],
        "totalOfPayments": offer["totalOfPayments"],
        "apr": offer["apr"],
        "aprBasisPoints": offer["aprBasisPoints"],
        "amountPaid": _money(0, currency),
        "amountOutstanding": offer["totalOfPayments"],
        "installments": installments,
        "createdAt": iso(now),
    }
    body = plan_view(plan, now)
    winner = await plans.confirm(
        plan=plan,
        application_update={"status": "CONFIRMED", "planId": plan_id, "confirmedAt": iso(now)},
        not_expired_at=iso(now),
        idempotency=NewIdempotency(customer_id, key, request_fp, 201, body, iso(now)),
    )
    if winner is not None:
        ensure_same_request(winner.fingerprint, request_fp)
        return winner
    log.info("plan created", extra={"application_id": application_id, "plan_id": plan_id})
    return StoredResponse(request_fp, 201, body)


async def get_plan(plans: PlanRepository, clock: Clock, customer_id: str, *, plan_id: str) -> dict[str, Any]:
    found = await plans.get(customer_id, plan_id)
    if found is None:
        raise PlanNotFound("no such plan", field="planId")
    return plan_view(found[0], clock.now())


async def list_plans(plans: PlanRepository, clock: Clock, customer_id: str) -> dict[str, Any]:
    now = clock.now()
    return {"items": [plan_view(p, now) for p in await plans.list(customer_id)]}


def allocate_payment(plan: dict[str, Any], amount: int, today: date) -> list[dict[str, Any]]:
    """Apply ``amount`` to the oldest unpaid installments first (mutates ``plan``); the allocations."""
    currency = plan["principal"]["currency"]
    remaining = amount
    allocations = []
    for inst in sorted(plan["installments"], key=lambda i: i["sequence"]):
        if remaining == 0:
            break
        due = inst["amount"]["amount"] - inst["amountPaid"]["amount"]
        take = min(due, remaining)
        if take <= 0:
            continue
        inst["amountPaid"] = _money(inst["amountPaid"]["amount"] + take, currency)
        if inst["amountPaid"]["amount"] == inst["amount"]["amount"] and date.fromisoformat(inst["dueDate"]) < today:
            inst["paidLate"] = True
        remaining -= take
        allocations.append({"sequence": inst["sequence"], "amount": _money(take, currency)})
    paid = plan["amountPaid"]["amount"] + amount
    plan["amountPaid"] = _money(paid, currency)
    plan["amountOutstanding"] = _money(plan["totalOfPayments"]["amount"] - paid, currency)
    if plan["amountOutstanding"]["amount"] == 0:
        plan["status"] = "COMPLETED"
    return allocations


async def make_payment(
    plans: PlanRepository,
    clock: Clock,
    customer_id: str,
    *,
    plan_id: str,
    body: PaymentInput,
    idempotency_key: str | None,
) -> StoredResponse:
    """Record a repayment: partial payments are fine, paying more than is owed is refused."""
    key = check_key(idempotency_key)
    request_fp = fingerprint({"op": "payment", "planId": plan_id, "body": body.model_dump(by_alias=True, mode="json")})
    stored = await plans.get_idempotent(customer_id, key)
    if stored is not None:
        ensure_same_request(stored.fingerprint, request_fp)
        return stored
    found = await plans.get(customer_id, plan_id)
    if found is None:
        raise PlanNotFound("no such plan", field="planId")
    plan, version = found
    currency = plan["principal"]["currency"]
    if body.amount.currency != currency:
        raise CurrencyMismatch(f"this plan is in {currency}", field="amount.currency")
    outstanding = plan["amountOutstanding"]["amount"]
    if body.amount.amount > outstanding:
        raise Overpayment(
            f"the payment is more than the {outstanding} minor units still owed",
            field="amount.amount",
            info={"amountOutstanding": outstanding},
        )
    now = clock.now()
    allocations = allocate_payment(plan, body.amount.amount, now.date())
    payment = {
        "id": str(uuid.uuid4()),
        "customerId": customer_id,
        "planId": plan_id,
        "amount": _money(body.amount.amount, currency),
        "createdAt": iso(now),
        "allocations": allocations,
    }
    response = Payment.model_validate(payment).model_dump(by_alias=True, mode="json")
    winner = await plans.record_payment(
        plan=plan,
        expected_version=version,
        payment=payment,
        idempotency=NewIdempotency(customer_id, key, request_fp, 201, response, iso(now)),
    )
    if winner is not None:
        ensure_same_request(winner.fingerprint, request_fp)
        return winner
    log.info("payment recorded", extra={"plan_id": plan_id, "payment_id": payment["id"]})
    return StoredResponse(request_fp, 201, response)
