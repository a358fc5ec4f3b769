"""Credit applications: preconditions, the decision, the record, the customer's views."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import random
import uuid
from datetime import datetime
from typing import Any

from bnpl_common.clock import Clock
from bnpl_common.idempotency import check_key, ensure_same_request, fingerprint
from bnpl_common.money import Money

from bnpl_credit.applications.schemas import ApplicationInput, CreditApplication
from bnpl_credit.credit_line.service import CustomerHistory, customer_history
from bnpl_credit.decision.engine import Decision, DecisionContext, DecisionEngine, evaluate, hold_amount
from bnpl_credit.decision.features import FEATURE_MAPPING_VERSION, FeatureInputs, age_on, build_features
from bnpl_credit.decision.offers import money, offer_doc
from bnpl_credit.errors import (
    AmountOutOfRange,
    ApplicationNotFound,
    ConcurrentUpdate,
    CurrencyMismatch,
    InvalidApplicationState,
    InvalidNextToken,
    OrderAlreadyFinanced,
    PhoneNotVerified,
    ProfileMismatch,
    UnsupportedCurrency,
)
from bnpl_credit.events.outbox import new_event
from bnpl_credit.scoring.port import ScoreResult
from bnpl_credit.storage.port import (
    Account,
    CreditStore,
    NewIdempotency,
    Reservation,
    ReservationConflict,
    StoredResponse,
    order_taken,
)
from bnpl_credit.timefmt import iso, parse_iso

log = logging.getLogger("bnpl.credit.applications")

_PROFILE_MONEY = ("monthlyIncome", "monthlyExpenses", "assets", "debt")
RESERVATION_ATTEMPTS = 60
EXPIRY_BATCH = 100

ECOA_NOTICE = (
    "The federal Equal Credit Opportunity Act prohibits creditors from discriminating against credit applicants "
    "on the basis of race, color, religion, national origin, sex, marital status, age (provided the applicant has "
    "the capacity to enter into a binding contract); because all or part of the applicant's income derives from "
    "any public assistance program; or because the applicant has in good faith exercised any right under the "
    "Consumer Credit Protection Act. You have the right to a statement of the specific reasons for this decision "
    "and to a free copy of the information we used, if you ask within 60 days."
)


def effective_status(doc: dict[str, Any], now: datetime) -> str:
    """An approval not confirmed within its hold time reads as EXPIRED."""
    if doc["status"] == "APPROVED" and doc.get("expiresAt") and parse_iso(doc["expiresAt"]) <= now:
        return "EXPIRED"
    return str(doc["status"])


def application_view(doc: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The ``CreditApplication`` JSON of a stored application (as every route renders it)."""
    view = {k: v for k, v in doc.items() if k not in ("customerId", "cancelledAt", "confirmedAt", "expiredAt", "hold")}
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


async def _check_order_free(store: CreditStore, customer_id: str, body: ApplicationInput, now: datetime) -> None:
    """One merchant order backs one plan: refuse before deciding when a live approval or plan
    holds it (the store checks again, atomically, when it writes an approval)."""
    claim = await store.get_order_claim(body.order.merchant_id, body.order.order_reference, now=iso(now))
    if claim is None:
        return
    error = order_taken()
    if claim.customer_id == customer_id:  # the caller's own: say which, so it can be confirmed or cancelled
        error.info = {"applicationId": claim.application_id}
        if claim.plan_id is not None:
            error.info["planId"] = claim.plan_id
    raise error


def adverse_action_notice(
    *, reasons: list[dict[str, str]], now: datetime, order: dict[str, Any], score: int | None, max_reasons: int
) -> dict[str, Any]:
    """The adverse-action notice of a decline (ECOA / Reg B 12 CFR 1002.9): the action, the
    principal reasons (at most four), the date, and the text the shopper is shown."""
    principal = reasons[:max_reasons]
    amount = Money(amount=order["amount"]["amount"], currency=order["amount"]["currency"]).format()
    lines = [
        f"Thank you for applying to pay {amount} to {order['merchantId']} over time. We cannot offer you credit "
        "for this purchase now.",
        "The principal reasons for our decision are:",
        *(f"{n}. {r['description']}" for n, r in enumerate(principal, 1)),
        "Our decision was based in whole or in part on the information you gave us and on your history with us.",
    ]
    if score is not None:
        lines.append(f"Your credit score with us was {score}; the reasons above are the key factors that affected it.")
    lines.append(ECOA_NOTICE)
    return {
        "action": "DECLINED",
        "date": now.date().isoformat(),
        "reasons": principal,
        "score": score,
        "text": "\n".join(lines),
    }


async def apply_for_credit(
    store: CreditStore,
    engine: DecisionEngine,
    clock: Clock,
    customer_id: str,
    *,
    body: ApplicationInput,
    idempotency_key: str | None,
) -> StoredResponse:
    """Decide one application and store it with its decision record, events and key.

    An approval reserves credit conditionally on the customer's account as the decision saw
    it; if another reservation landed meanwhile, the decision is taken again on fresh data.
    """
    key = check_key(idempotency_key)
    request_fp = fingerprint({"op": "apply", "body": body.model_dump(by_alias=True, mode="json")})
    scored: tuple[dict[str, Any], ScoreResult | None, str | None] | None = None
    for attempt in range(RESERVATION_ATTEMPTS):
        now = clock.now()
        stored = await store.get_idempotent(customer_id, key, now=now)
        if stored is not None:
            ensure_same_request(stored.fingerprint, request_fp)
            return stored
        _check_preconditions(engine, customer_id, body)
        try:
            await _check_order_free(store, customer_id, body, now)
        except OrderAlreadyFinanced:
            # a retry of this very request may have been decided (and claimed the order) meanwhile
            stored = await store.get_idempotent(customer_id, key, now=now)
            if stored is None:
                raise
            ensure_same_request(stored.fingerprint, request_fp)
            return stored
        snapshot = await store.snapshot(customer_id)
        history = customer_history(snapshot, now=now, policy=engine.policy)
        features, ctx = _inputs(engine, body, history, now)
        if scored is None or scored[0] != features:  # score again only if the inputs moved
            score, failure = await engine.score(features)
            scored = (features, score, failure)
        decision = evaluate(engine.policy, ctx, scored[1], scored[2])
        application, record, events, reservation = _decision_docs(
            engine, customer_id, body, history, features, decision, now
        )
        body_out = application_view(application, now)
        try:
            winner = await store.save_decision(
                application=application,
                record=record,
                idempotency=NewIdempotency(customer_id, key, request_fp, 201, body_out, now),
                events=events,
                reservation=reservation,
            )
        except ReservationConflict:
            await asyncio.sleep(random.uniform(0, min(0.002 * (attempt + 1), 0.05)))
            continue
        if winner is not None:
            ensure_same_request(winner.fingerprint, request_fp)
            return winner
        log.info("application decided", extra={"application_id": application["id"], "status": decision.status})
        return StoredResponse(request_fp, 201, body_out)
    raise ConcurrentUpdate("too many concurrent applications; try again", field="order")


def _inputs(
    engine: DecisionEngine, body: ApplicationInput, history: CustomerHistory, now: datetime
) -> tuple[dict[str, Any], DecisionContext]:
    policy = engine.policy
    order, profile = body.order, body.profile
    currency = order.amount.currency
    today = now.date()
    account = history.account
    same_currency = account is None or account.currency == currency
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
            open_plans_outstanding=history.open_plans_outstanding if same_currency else 0,
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
        credit_limit=(account.credit_limit if same_currency else 0) if account else None,
        exposure=history.exposure if same_currency else 0,
        today=today,
        now=now,
    )
    return features, ctx


def _decision_docs(
    engine: DecisionEngine,
    customer_id: str,
    body: ApplicationInput,
    history: CustomerHistory,
    features: dict[str, Any],
    decision: Decision,
    now: datetime,
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]], Reservation | None]:
    policy = engine.policy
    order, profile = body.order, body.profile
    currency = order.amount.currency
    score = decision.score
    app_id = str(uuid.uuid4())
    reasons = [{"code": r.code, "description": r.description} for r in decision.reasons]
    offer = offer_doc(decision.schedule, plan_type=order.plan_type, currency=currency) if decision.schedule else None
    order_doc = order.model_dump(by_alias=True, mode="json")
    notice = (
        adverse_action_notice(
            reasons=reasons,
            now=now,
            order=order_doc,
            score=score.score if score else None,
            max_reasons=policy.max_reasons,
        )
        if decision.status == "DECLINED"
        else None
    )
    hold = (
        money(hold_amount(order.amount.amount, decision.schedule), currency) if decision.status == "APPROVED" else None
    )
    application = {
        "id": app_id,
        "customerId": customer_id,
        "status": decision.status,
        "decision": decision.status,
        "amount": money(order.amount.amount, currency),
        "hold": hold,
        "merchantId": order.merchant_id,
        "orderReference": order.order_reference,
        "planType": order.plan_type,
        "createdAt": iso(now),
        "expiresAt": iso(decision.expires_at) if decision.expires_at else None,
        "score": score.score if score else None,
        "riskGrade": score.grade if score else None,
        "pd": score.pd if score else None,
        "reasons": reasons,
        "notice": notice,
        "offer": offer,
        "modelVersion": score.model_version if score else None,
        "policyVersion": policy.version,
        "planId": None,
    }
    account = history.account
    record = {
        "applicationId": app_id,
        "customerId": customer_id,
        "decidedAt": iso(now),
        "status": decision.status,
        "order": order_doc,
        "profile": profile.model_dump(by_alias=True, mode="json"),
        "history": {
            "lateInstallments": history.late_installments,
            "openPlansOutstanding": history.open_plans_outstanding,
            "heldApprovals": history.held_approvals,
            "creditLimit": account.credit_limit if account else None,
            "creditLineCurrency": account.currency if account else None,
        },
        "features": features,
        "featureMappingVersion": FEATURE_MAPPING_VERSION,
        "score": score.to_dict() if score else None,
        "scorerFailure": decision.scorer_failure,
        "reasons": reasons,
        "notice": notice,
        "offer": offer,
        "hold": hold,
        "expiresAt": application["expiresAt"],
        "newCreditLimit": decision.new_credit_limit,
        "modelVersion": application["modelVersion"],
        "policyVersion": policy.version,
    }
    events = [
        new_event(
            "decision.made",
            now=now,
            customer_id=customer_id,
            data={
                "applicationId": app_id,
                "status": decision.status,
                "planType": order.plan_type,
                "amount": application["amount"],
                "merchantId": order.merchant_id,
                "orderReference": order.order_reference,
                "reasonCodes": [r["code"] for r in reasons],
                "expiresAt": application["expiresAt"],
                "modelVersion": application["modelVersion"],
                "policyVersion": policy.version,
            },
        )
    ]
    reservation = None
    if decision.status == "APPROVED":
        new_account = Account(decision.new_credit_limit, currency, 1) if decision.new_credit_limit is not None else None
        reservation = Reservation(expected_version=account.version if account else None, new_account=new_account)
    return application, record, events, reservation


async def get_application(store: CreditStore, clock: Clock, customer_id: str, *, application_id: str) -> dict[str, Any]:
    doc = await store.get_application(customer_id, application_id)
    if doc is None:
        raise ApplicationNotFound("no such application", field="id")
    return application_view(doc, clock.now())


def encode_token(created_at: str, application_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([created_at, application_id]).encode()).decode().rstrip("=")


_MAX_TOKEN_LENGTH = 200


def decode_token(token: str) -> tuple[str, str]:
    """The ``(createdAt, id)`` cursor of :func:`encode_token`, checked strictly: exactly two
    strings, a timestamp as this service writes them (:func:`iso`) and a UUID; anything
    else is a 422 on ``nextToken``, never a 500. The cursor only pages through the caller's
    own applications (the store scopes the query by customer), so it needs no secret."""
    try:
        if len(token) > _MAX_TOKEN_LENGTH:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        cursor = json.loads(raw)
        if not (isinstance(cursor, list) and len(cursor) == 2 and all(isinstance(part, str) for part in cursor)):
            raise ValueError("not a cursor")
        created_at, application_id = cursor
        if iso(parse_iso(created_at)) != created_at or str(uuid.UUID(application_id)) != application_id:
            raise ValueError("not a cursor")
        return created_at, application_id
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error) as exc:
        raise InvalidNextToken("nextToken is not valid", field="nextToken") from exc


async def list_applications(
    store: CreditStore, clock: Clock, customer_id: str, *, limit: int, next_token: str | None
) -> dict[str, Any]:
    after = decode_token(next_token) if next_token else None
    docs = await store.list_applications(customer_id, limit=limit + 1, after=after)
    now = clock.now()
    page = docs[:limit]
    token = encode_token(page[-1]["createdAt"], page[-1]["id"]) if len(docs) > limit else None
    return {"items": [application_view(d, now) for d in page], "nextToken": token}


async def cancel_application(
    store: CreditStore, clock: Clock, customer_id: str, *, application_id: str
) -> dict[str, Any]:
    """Withdraw an approval that is not yet confirmed (its hold is released); twice is harmless."""
    now = clock.now()
    doc = await store.get_application(customer_id, application_id)
    if doc is None:
        raise ApplicationNotFound("no such application", field="id")
    if doc["status"] == "CANCELLED":
        return application_view(doc, now)
    status = effective_status(doc, now)
    if status == "APPROVED":
        updated = await store.transition_application(
            customer_id,
            application_id,
            expect_status="APPROVED",
            not_expired_at=iso(now),
            update={"status": "CANCELLED", "cancelledAt": iso(now)},
            events=[
                new_event(
                    "application.cancelled",
                    now=now,
                    customer_id=customer_id,
                    data={"applicationId": application_id, "released": doc.get("hold")},
                )
            ],
        )
        if updated is not None:
            log.info("application cancelled", extra={"application_id": application_id})
            return application_view(updated, now)
        doc = await store.get_application(customer_id, application_id) or doc
        status = effective_status(doc, now)
        if status == "CANCELLED":
            return application_view(doc, now)
    raise InvalidApplicationState(
        f"an application that is {status} cannot be cancelled", field="id", info={"status": status}
    )


async def expire_approvals(store: CreditStore, clock: Clock, *, batch: int = EXPIRY_BATCH) -> int:
    """Write back approvals whose hold ended: status EXPIRED (the hold is released) and an
    ``application.expired`` event, in one transaction each; how many were expired.

    Reads show EXPIRED from ``expiresAt`` on anyway (:func:`effective_status`); this makes it
    stored and announced. Idempotent, and exclusive with a confirm: the store moves an
    approval only if it is still APPROVED, so of a confirm and an expiry exactly one wins.
    """
    now = clock.now()
    at = iso(now)
    expired = 0
    seen: set[str] = set()
    while True:
        due = await store.list_expired_approvals(now=at, limit=batch)
        fresh = [doc for doc in due if doc["id"] not in seen]
        for doc in fresh:
            customer_id, application_id = doc["customerId"], doc["id"]
            seen.add(application_id)
            event = new_event(
                "application.expired",
                now=now,
                customer_id=customer_id,
                data={"applicationId": application_id, "expiresAt": doc["expiresAt"], "released": doc.get("hold")},
            )
            updated = await store.expire_application(
                customer_id,
                application_id,
                now=at,
                update={"status": "EXPIRED", "expiredAt": at},
                events=[event],
            )
            if updated is not None:
                expired += 1
                log.info("application expired", extra={"application_id": application_id})
        # a short page is the last; a page of ones already tried (an index lagging behind the
        # table) ends this sweep too: the next one finds what is left
        if len(due) < batch or not fresh:
            return expired
