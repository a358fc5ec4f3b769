"""Credit applications: preconditions, the decision, the record, the customer's views."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import uuid
from datetime import datetime
from typing import Any

from bnpl_common.clock import Clock
from bnpl_common.idempotency import check_key, ensure_same_request, fingerprint

from bnpl_credit.applications.repository import ApplicationRepository, CreditLine
from bnpl_credit.applications.schemas import ApplicationInput, CreditApplication
from bnpl_credit.db import NewIdempotency, StoredResponse
from bnpl_credit.decision.engine import DecisionContext, DecisionEngine
from bnpl_credit.decision.features import FEATURE_MAPPING_VERSION, FeatureInputs, age_on, build_features
from bnpl_credit.decision.offers import offer_doc
from bnpl_credit.errors import (
    AmountOutOfRange,
    ApplicationNotFound,
    CurrencyMismatch,
    InvalidApplicationState,
    InvalidNextToken,
    PhoneNotVerified,
    ProfileMismatch,
    UnsupportedCurrency,
)
from bnpl_credit.timefmt import iso, parse_iso

log = logging.getLogger("bnpl.credit.applications")

_PROFILE_MONEY = ("monthlyIncome", "monthlyExpenses", "assets", "debt")


def effective_status(doc: dict[str, Any], now: datetime) -> str:
    """An approval not confirmed within its hold time reads as EXPIRED."""
    if doc["status"] == "APPROVED" and doc.get("expiresAt") and parse_iso(doc["expiresAt"]) <= now:
        return "EXPIRED"
    return str(doc["status"])


def application_view(doc: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The ``CreditApplication`` JSON of a stored application (as every route renders it)."""
    view = {k: v for k, v in doc.items() if k not in ("customerId", "cancelledAt", "confirmedAt")}
    view["status"] = effective_status(doc, now)
    return CreditApplication.model_validate(view).model_dump(by_alias=True, mode="json")


def _check_preconditions(engine: DecisionEngine, customer_id: str, body: ApplicationInput) -> None:
    if body.profile.id != customer_id:
        raise ProfileMismatch("the profile does not belong to the caller", field="profile.id")
    policy = engine.policy
    order = body.order
    currency = order.amount.currency
    if currency not in policy.currencies:
        raise UnsupportedCurrency(
            f"{currency} is not supported; use one of {', '.join(sorted(policy.currencies))}",
            field="order.amount.currency",
        )
    plan = policy.plan(order.plan_type)
    if not plan.min_amount <= order.amount.amount <= plan.max_amount:
        raise AmountOutOfRange(
            f"{order.plan_type} is available for amounts from {plan.min_amount} to {plan.max_amount} minor units",
            field="order.amount.amount",
            info={"minAmount": plan.min_amount, "maxAmount": plan.max_amount},
        )
    if not body.profile.phone_verified:
        raise PhoneNotVerified("verify your phone number before applying", field="profile.phoneVerified")
    profile = body.profile.model_dump(by_alias=True)
    for name in _PROFILE_MONEY:
        if profile[name]["currency"] != currency:
            raise CurrencyMismatch(
                "the profile's amounts must be in the currency of the order", field=f"profile.{name}.currency"
            )


async def apply_for_credit(
    repo: ApplicationRepository,
    engine: DecisionEngine,
    clock: Clock,
    customer_id: str,
    *,
    body: ApplicationInput,
    idempotency_key: str | None,
) -> StoredResponse:
    """Decide one application and store it with its decision record and idempotency key."""
    key = check_key(idempotency_key)
    request_fp = fingerprint({"op": "apply", "body": body.model_dump(by_alias=True, mode="json")})
    stored = await repo.get_idempotent(customer_id, key)
    if stored is not None:
        ensure_same_request(stored.fingerprint, request_fp)
        return stored
    _check_preconditions(engine, customer_id, body)

    policy = engine.policy
    order, profile = body.order, body.profile
    currency = order.amount.currency
    now = clock.now()
    today = now.date()
    history = await repo.history(customer_id, now_iso=iso(now), today=today)
    line = history.credit_line
    same_currency_line = line is None or line.currency == currency
    features = build_features(
        FeatureInputs(
            employment_years=profile.employment_years,
            housing=profile.housing,
            employment=profile.employment,
            date_of_birth=profile.date_of_birth,
            monthly_income=profile.monthly_income.amount,
            monthly_expenses=profile.monthly_expenses.amount,
            assets=profile.assets.amount,
            debt=profile.debt.amount,
            order_amount=order.amount.amount,
            term_months=policy.plan(order.plan_type).model_term_months,
            has_late_installments=history.late_installments > 0,
            open_plans_outstanding=history.open_plans_outstanding if same_currency_line else 0,
            model_unit_minor=policy.currencies[currency].model_unit_minor,
        ),
        today=today,
    )
    ctx = DecisionContext(
        amount=order.amount.amount,
        currency=currency,
        plan_type=order.plan_type,
        age=age_on(profile.date_of_birth, today),
        late_installments=history.late_installments,
        monthly_income=profile.monthly_income.amount,
        monthly_expenses=profile.monthly_expenses.amount,
        # a line in another currency leaves nothing available in this one
        credit_limit=(line.credit_limit if same_currency_line else 0) if line else None,
        exposure=history.exposure if same_currency_line else 0,
        today=today,
        now=now,
    )
    decision = await engine.decide(ctx, features)
    score = decision.score
    app_id = str(uuid.uuid4())
    reasons = [{"code": r.code, "description": r.description} for r in decision.reasons]
    offer = offer_doc(decision.schedule, plan_type=order.plan_type, currency=currency) if decision.schedule else None
    application = {
        "id": app_id,
        "customerId": customer_id,
        "status": decision.status,
        "decision": decision.status,
        "amount": {"amount": order.amount.amount, "currency": currency},
        "merchantId": order.merchant_id,
        "orderReference": order.order_reference,
        "planType": order.plan_type,
        "createdAt": iso(now),
        "expiresAt": iso(decision.expires_at) if decision.expires_at else None,
        "score": score.score if score else None,
        "riskGrade": score.grade if score else None,
        "pd": score.pd if score else None,
        "reasons": reasons,
        "offer": offer,
        "modelVersion": score.model_version if score else None,
        "policyVersion": policy.version,
        "planId": None,
    }
    record = {
        "applicationId": app_id,
        "customerId": customer_id,
        "decidedAt": iso(now),
        "status": decision.status,
        "order": order.model_dump(by_alias=True, mode="json"),
        "profile": profile.model_dump(by_alias=True, mode="json"),
        "history": {
            "lateInstallments": history.late_installments,
            "openPlansOutstanding": history.open_plans_outstanding,
            "heldApprovals": history.held_approvals,
            "creditLimit": line.credit_limit if line else None,
            "creditLineCurrency": line.currency if line else None,
        },
        "features": features,
        "featureMappingVersion": FEATURE_MAPPING_VERSION,
        "score": score.to_dict() if score else None,
        "scorerFailure": decision.scorer_failure,
        "reasons": reasons,
        "offer": offer,
        "expiresAt": application["expiresAt"],
        "newCreditLimit": decision.new_credit_limit,
        "modelVersion": application["modelVersion"],
        "policyVersion": policy.version,
    }
    body_out = application_view(application, now)
    new_line = CreditLine(decision.new_credit_limit, currency) if decision.new_credit_limit is not None else None
    winner = await repo.save_decision(
        application=application,
        record=record,
        idempotency=NewIdempotency(customer_id, key, request_fp, 201, body_out, iso(now)),
        new_credit_line=new_line,
    )
    if winner is not None:
        ensure_same_request(winner.fingerprint, request_fp)
        return winner
    log.info("application decided", extra={"application_id": app_id, "status": decision.status})
    return StoredResponse(request_fp, 201, body_out)


async def get_application(
    repo: ApplicationRepository, clock: Clock, customer_id: str, *, application_id: str
) -> dict[str, Any]:
    doc = await repo.get(customer_id, application_id)
    if doc is None:
        raise ApplicationNotFound("no such application", field="id")
    return application_view(doc, clock.now())


def encode_token(created_at: str, application_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([created_at, application_id]).encode()).decode().rstrip("=")


def decode_token(token: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        created_at, application_id = json.loads(raw)
        parse_iso(created_at)
        if not isinstance(application_id, str):
            raise ValueError
        return created_at, application_id
    except (ValueError, TypeError, binascii.Error) as exc:
        raise InvalidNextToken("nextToken is not valid", field="nextToken") from exc


async def list_applications(
    repo: ApplicationRepository, clock: Clock, customer_id: str, *, limit: int, next_token: str | None
) -> dict[str, Any]:
    after = decode_token(next_token) if next_token else None
    docs = await repo.list(customer_id, limit=limit + 1, after=after)
    now = clock.now()
    page = docs[:limit]
    token = encode_token(page[-1]["createdAt"], page[-1]["id"]) if len(docs) > limit else None
    return {"items": [application_view(d, now) for d in page], "nextToken": token}


async def cancel_application(
    repo: ApplicationRepository, clock: Clock, customer_id: str, *, application_id: str
) -> dict[str, Any]:
    """Withdraw an approval that is not yet confirmed; cancelling twice is harmless."""
    now = clock.now()
    doc = await repo.get(customer_id, application_id)
    if doc is None:
        raise ApplicationNotFound("no such application", field="id")
    if doc["status"] == "CANCELLED":
        return application_view(doc, now)
    status = effective_status(doc, now)
    if status == "APPROVED":
        updated = await repo.transition(
            customer_id,
            application_id,
            expect_status="APPROVED",
            not_expired_at=iso(now),
            update={"status": "CANCELLED", "cancelledAt": iso(now)},
        )
        if updated is not None:
            log.info("application cancelled", extra={"application_id": application_id})
            return application_view(updated, now)
        doc = await repo.get(customer_id, application_id) or doc
        status = effective_status(doc, now)
        if status == "CANCELLED":
            return application_view(doc, now)
    raise InvalidApplicationState(
        f"an application that is {status} cannot be cancelled", field="id", info={"status": status}
    )
