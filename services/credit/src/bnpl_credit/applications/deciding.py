"""Deciding an application: preconditions, one order one plan, the customer's history, the
model's inputs, the score and the policy, then one conditional write (retried on a lost race)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bnpl_common.clock import Clock
from bnpl_common.dates import age_on
from bnpl_common.idempotency import StoredResponse, check_key, ensure_same_request, fingerprint
from bnpl_common.retry import RetryPolicy, retry_on_contention

from bnpl_credit.applications.affordability import own_plan_payments
from bnpl_credit.applications.documents import decision_documents
from bnpl_credit.applications.finance_review import FinanceReviewPolicy, changed_since_decline, referred_for_review
from bnpl_credit.applications.ports import ApplicationStore, Reservation, order_taken
from bnpl_credit.applications.schemas import ApplicationInput, CreditApplication
from bnpl_credit.checkouts.ports import CheckoutLink
from bnpl_credit.credit_line.growth import limit_standing
from bnpl_credit.credit_line.model import Account, CustomerHistory
from bnpl_credit.credit_line.ports import CreditLineStore
from bnpl_credit.credit_line.service import customer_history, line_snapshot, link_line, with_shared_line_notice
from bnpl_credit.decision.engine import (
    DecisionContext,
    DecisionEngine,
    DecisionStatus,
    ScoreOutcome,
    lending_market,
)
from bnpl_credit.decision.features import FeatureInputs, build_features
from bnpl_credit.decision.schedule import paid_at_start
from bnpl_credit.errors import (
    AmountOutOfRange,
    ConcurrentUpdate,
    CurrencyMismatch,
    OrderAlreadyFinanced,
    PhoneNotVerified,
    ProfileMismatch,
)
from bnpl_credit.idempotency import IdempotencyStore, NewIdempotency
from bnpl_credit.markets.catalog import Market
from bnpl_credit.metrics import record_decision
from bnpl_credit.plans.ledger import Plan
from bnpl_credit.reviews.opening import referral_case
from bnpl_credit.scoring.port import FeatureRow

log = logging.getLogger("bnpl.credit.applications")

# Concurrent applications of one customer serialise on the account's version: each lost race
# decides again on fresh data. Twenty at once (the contract suite) must all get an answer, so
# more attempts than the shared default, with the shared backoff.
RESERVATION_RETRY = RetryPolicy(attempts=60, base_delay=0.002, max_delay=0.05)


class DecidingStore(ApplicationStore, CreditLineStore, IdempotencyStore, Protocol):
    """What deciding reads and writes."""


def _check_preconditions(engine: DecisionEngine, customer_id: str, body: ApplicationInput) -> Market:
    """The order's market, once the application may be decided at all."""
    if body.profile.id != customer_id:
        raise ProfileMismatch("the profile does not belong to the caller", field="profile.id")
    order = body.order
    currency = order.amount.currency
    market = lending_market(engine.policy, engine.markets, currency, field="order.amount.currency")
    if order.plan_type not in market.products:
        raise AmountOutOfRange(
            f"{order.plan_type} is not offered in {currency}", field="order.planType", info={"currency": currency}
        )
    plan = market.product(order.plan_type)
    if not plan.min_amount <= order.amount.amount <= plan.max_amount:
        raise AmountOutOfRange(
            f"{order.plan_type} is available for amounts from {plan.min_amount} to {plan.max_amount} minor units",
            field="order.amount.amount",
            info={"minAmount": plan.min_amount, "maxAmount": plan.max_amount},
        )
    profile = body.profile
    if not profile.phone_verified:
        raise PhoneNotVerified("verify your phone number before applying", field="profile.phoneVerified")
    for name, money in (
        ("monthlyIncome", profile.monthly_income),
        ("monthlyExpenses", profile.monthly_expenses),
        ("assets", profile.assets),
        ("debt", profile.debt),
    ):
        if money.currency != currency:
            raise CurrencyMismatch(
                "the profile's amounts must be in the currency of the order", field=f"profile.{name}.currency"
            )
    return market


async def _check_order_free(store: ApplicationStore, customer_id: str, body: ApplicationInput, now: datetime) -> None:
    """One merchant order backs one plan: refuse before deciding when a live approval or plan
    holds it (the store checks again, atomically, when it writes an approval)."""
    claim = await store.get_order_claim(body.order.merchant_id, body.order.order_reference, now=now)
    if claim is None:
        return
    error = order_taken()
    if claim.customer_id == customer_id:  # the caller's own: say which, so it can be confirmed or cancelled
        error.info = {"applicationId": claim.application_id}
        if claim.plan_id is not None:
            error.info["planId"] = claim.plan_id
    raise error


def _inputs(
    engine: DecisionEngine,
    market: Market,
    body: ApplicationInput,
    history: CustomerHistory,
    now: datetime,
    plans: Sequence[Plan] = (),
) -> tuple[FeatureRow, DecisionContext]:
    policy = engine.policy
    order, profile = body.order, body.profile
    currency = order.amount.currency
    today = now.date()
    account = history.account
    same_currency = account is None or account.currency == currency
    standing = limit_standing(history, policy, today=today)
    history_limit = standing.limit if standing is not None else None
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
            order_total=order.amount.amount,
            amount_financed=order.amount.amount - paid_at_start(market.product(order.plan_type), order.amount.amount),
            term_months=policy.model_term_months[order.plan_type],
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
        # the limit the customer's repayments have earned (credit_line.growth), not only the first one
        credit_limit=(history_limit if same_currency else 0) if account else None,
        exposure=history.exposure if same_currency else 0,
        today=today,
        now=now,
        market=market,
        declared_debt=profile.debt.amount,
        own_plans=own_plan_payments(plans, currency=currency, today=today),
    )
    return features, ctx


@dataclass(frozen=True, slots=True)
class _Scored:
    """A score kept across attempts: a lost race scores again only if the model's inputs moved."""

    features: FeatureRow
    outcome: ScoreOutcome


async def apply_for_credit(
    store: DecidingStore,
    engine: DecisionEngine,
    clock: Clock,
    customer_id: str,
    *,
    body: ApplicationInput,
    idempotency_key: str | None,
    checkout: CheckoutLink | None = None,
    finance_review: FinanceReviewPolicy | None = None,
) -> StoredResponse:
    """Decide one application and store it with its decision record, event and key.

    An approval reserves credit conditionally on the customer's account as the decision saw
    it; if another reservation landed meanwhile, the decision is taken again on fresh data.
    """
    key = check_key(idempotency_key)
    # the signature is fresh on every read of the profile: a retry is the same request without it
    request_fp = fingerprint(
        {"op": "apply", "body": body.model_dump(by_alias=True, mode="json", exclude={"profile_signature"})}
    )
    order = body.order.to_order()
    profile = body.profile.model_dump(by_alias=True, mode="json")
    scored: _Scored | None = None

    async def replay(now: datetime) -> StoredResponse | None:
        stored = await store.get_idempotent(customer_id, key, now=now)
        if stored is not None:
            ensure_same_request(stored.fingerprint, request_fp)
        return stored

    async def attempt() -> StoredResponse:
        nonlocal scored
        now = clock.now()
        stored = await replay(now)
        if stored is not None:
            return stored
        market = _check_preconditions(engine, customer_id, body)
        try:
            await _check_order_free(store, customer_id, body, now)
        except OrderAlreadyFinanced:
            # a retry of this very request may have been decided (and claimed the order) meanwhile
            stored = await replay(now)
            if stored is None:
                raise
            return stored
        line = await link_line(store, customer_id, body.profile.person_key, now=now)  # one person, one line
        snapshot = await line_snapshot(store, customer_id, line, now=now)
        history = customer_history(snapshot, now=now, markets=engine.markets)
        features, ctx = _inputs(engine, market, body, history, now, snapshot.plans)
        if scored is None or scored.features != features:
            scored = _Scored(features, await engine.score(features))
        decision = engine.evaluate(ctx, scored.outcome)
        decision = with_shared_line_notice(decision, line, customer_id)
        members = line.members if line is not None else (customer_id,)
        if await changed_since_decline(
            store, members, body.profile, now=now, policy=finance_review or FinanceReviewPolicy()
        ):
            decision = referred_for_review(decision)
        docs = decision_documents(
            engine.policy,
            customer_id=customer_id,
            order=order,
            profile=profile,
            history=history,
            features=features,
            decision=decision,
            now=now,
            market=market,
        )
        body_out = CreditApplication.of(docs.application, now).to_json()
        checkout_write = None
        if checkout is not None:  # a checkout session's application: the session moves with the decision
            body_out["checkoutId"] = checkout.checkout_id
            checkout_write = await checkout.write_for(docs.application, now)
        winner = await store.save_decision(
            application=docs.application,
            record=docs.record,
            idempotency=NewIdempotency(customer_id, key, request_fp, 201, body_out, now),
            events=[docs.event],
            reservation=_reservation(
                decision.status,
                decision.new_credit_limit,
                order.currency,
                history.account,
                holder=line.holder if line is not None else None,
            ),
            checkout=checkout_write,
            review=referral_case(docs.application),  # every REFERRED decision opens a review case
        )
        if winner is not None:
            ensure_same_request(winner.fingerprint, request_fp)
            return winner
        log.info("application decided", extra={"application_id": docs.application.id, "status": decision.status})
        record_decision(
            decision.status, grade=decision.score.grade if decision.score else None, plan_type=ctx.plan_type
        )
        return StoredResponse(request_fp, 201, body_out)

    try:
        return await retry_on_contention(attempt, policy=RESERVATION_RETRY)
    except ConcurrentUpdate as exc:
        raise ConcurrentUpdate("too many concurrent applications; try again", field="order") from exc


def _reservation(
    status: DecisionStatus,
    new_credit_limit: int | None,
    currency: str,
    account: Account | None,
    *,
    holder: str | None = None,
) -> Reservation | None:
    """An approval reserves on the account it saw (creating it at the first approval): the
    person's line, held by ``holder``'s account. A referral holds credit while its case is open,
    so it reserves on the account's version too: of two decisions that read the same line, the
    second to write decides again and sees the first's hold. A referral creates no account (it
    sets no limit): before the first approval there is no line to reserve on."""
    if status is DecisionStatus.REFERRED:
        return Reservation(expected_version=account.version, holder=holder) if account is not None else None
    if status is not DecisionStatus.APPROVED:
        return None
    new_account = Account(new_credit_limit, currency, 1) if new_credit_limit is not None else None
    return Reservation(expected_version=account.version if account else None, new_account=new_account, holder=holder)
