"""The merchant's side of checkout sessions: create, read, list, capture, void, refund, and the
sweeper that ends sessions whose time ran out.

Every POST is idempotent per merchant (scope ``merchant:<merchantId>``, so a key rotation does
not reopen old keys): a retry gets the first response, the same key with another body is
refused. A change that moves money writes the session, the plan, its records and events in one
transaction, conditioned on the versions read; a lost race is decided again on fresh data, so
of a capture and a void racing exactly one applies when together they do not fit.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from bnpl_common.clock import Clock
from bnpl_common.errors import ValidationFailed
from bnpl_common.idempotency import StoredResponse, check_key, ensure_same_request, fingerprint
from bnpl_common.retry import retry_on_contention

from bnpl_credit.applications.model import ApplicationStatus
from bnpl_credit.applications.ports import ApplicationStore
from bnpl_credit.checkouts.config import CheckoutConfig
from bnpl_credit.checkouts.cursor import decode_token, encode_token
from bnpl_credit.checkouts.events import checkout_event, status_event
from bnpl_credit.checkouts.model import (
    CheckoutItem,
    CheckoutNotFound,
    CheckoutSession,
    CheckoutStatus,
    MerchantSuspended,
)
from bnpl_credit.checkouts.ports import CheckoutCursor, CheckoutStore, CheckoutWrite
from bnpl_credit.checkouts.schemas import (
    CaptureInput,
    CheckoutInput,
    CheckoutPage,
    CheckoutRefundInput,
    CheckoutView,
)
from bnpl_credit.decision.policy import PLAN_TYPES, PlanTypeName
from bnpl_credit.decision.schedule import due_dates
from bnpl_credit.errors import AmountOutOfRange, PlanNotFound, UnsupportedCurrency
from bnpl_credit.events.model import Event, EventType
from bnpl_credit.idempotency import IdempotencyStore, NewIdempotency
from bnpl_credit.markets.catalog import Market, MarketCatalog
from bnpl_credit.merchants.model import Merchant
from bnpl_credit.plans.events import installments_late, payment_applied, plan_activated, refund_applied
from bnpl_credit.plans.interest import refund_recomputation
from bnpl_credit.plans.ledger import Plan, late_fee_terms
from bnpl_credit.plans.model import Payment, PaymentSource, PlanStatus, Refund
from bnpl_credit.plans.ports import PlanStore

log = logging.getLogger("bnpl.credit.checkouts")

SWEEP_BATCH = 100


class CheckoutServiceStore(CheckoutStore, PlanStore, ApplicationStore, IdempotencyStore, Protocol):
    """What the merchant's checkout operations read and write."""


def scope_of(merchant: Merchant) -> str:
    return f"merchant:{merchant.id}"


def _market_of(markets: MarketCatalog, merchant: Merchant, currency: str) -> Market:
    market = markets.for_currency(currency)
    if currency != merchant.currency or market is None or market.market != merchant.market:
        raise UnsupportedCurrency(
            f"this merchant sells in {merchant.currency}", field="amount.currency", info={"currency": merchant.currency}
        )
    return market


def _plan_types(market: Market, body: CheckoutInput) -> tuple[PlanTypeName, ...]:
    """The plan types offered for the order: those asked for (else all the market's) that allow the amount."""
    amount = body.amount.amount
    wanted = body.plan_types or [p for p in PLAN_TYPES if p in market.products]
    for n, plan_type in enumerate(wanted):
        if plan_type not in market.products:
            raise ValidationFailed(f"{plan_type} is not offered in {market.market}", field=f"planTypes[{n}]")
    fitting = tuple(p for p in wanted if market.products[p].min_amount <= amount <= market.products[p].max_amount)
    if not fitting:
        lows = [market.products[p].min_amount for p in wanted]
        highs = [market.products[p].max_amount for p in wanted]
        raise AmountOutOfRange(
            f"no plan on offer allows {amount} minor units (from {min(lows)} to {max(highs)})",
            field="amount.amount",
            info={"minAmount": min(lows), "maxAmount": max(highs)},
        )
    return fitting


def _items(body: CheckoutInput) -> tuple[CheckoutItem, ...]:
    if not body.items:
        return ()
    currency = body.amount.currency
    for n, item in enumerate(body.items):
        if item.unit_price.currency != currency:
            raise ValidationFailed(
                "items must be in the currency of the amount", field=f"items[{n}].unitPrice.currency"
            )
    total = sum(item.quantity * item.unit_price.amount for item in body.items)
    if total != body.amount.amount:
        raise ValidationFailed(
            f"the items add up to {total}, not to the amount {body.amount.amount}",
            field="items",
            info={"itemsTotal": total},
        )
    return tuple(CheckoutItem(i.name, i.quantity, i.unit_price.amount) for i in body.items)


def _check_urls(merchant: Merchant, body: CheckoutInput) -> None:
    for name, url in (("returnUrl", body.return_url), ("cancelUrl", body.cancel_url)):
        if not merchant.allows_origin(url):
            raise ValidationFailed(
                f"{name} must be on one of the merchant's origins", field=name, info={"origins": list(merchant.origins)}
            )


def new_session(
    merchant: Merchant, markets: MarketCatalog, body: CheckoutInput, now: datetime, config: CheckoutConfig
) -> CheckoutSession:
    """A valid OPEN session for ``body``, or the 4xx naming what is wrong."""
    if not merchant.active:
        raise MerchantSuspended("this merchant is suspended: it can create nothing", field="merchantId")
    market = _market_of(markets, merchant, body.amount.currency)
    plan_types = _plan_types(market, body)
    items = _items(body)
    _check_urls(merchant, body)
    shopper = body.shopper
    return CheckoutSession(
        id=f"chk_{secrets.token_hex(12)}",
        merchant_id=merchant.id,
        order_reference=body.order_reference,
        status=CheckoutStatus.OPEN,
        token=secrets.token_urlsafe(32),
        amount=body.amount.amount,
        currency=body.amount.currency,
        items=items,
        plan_types=plan_types,
        return_url=body.return_url,
        cancel_url=body.cancel_url,
        shopper_email=shopper.email if shopper else None,
        shopper_phone=shopper.phone_number if shopper else None,
        created_at=now,
        updated_at=now,
        expires_at=now + config.session_ttl,
    )


async def create_checkout(
    store: CheckoutServiceStore,
    markets: MarketCatalog,
    clock: Clock,
    merchant: Merchant,
    *,
    body: CheckoutInput,
    idempotency_key: str | None,
    config: CheckoutConfig,
) -> StoredResponse:
    key = check_key(idempotency_key)
    scope = scope_of(merchant)
    request_fp = fingerprint({"op": "checkout.create", "body": body.model_dump(by_alias=True, mode="json")})
    now = clock.now()
    stored = await store.get_idempotent(scope, key, now=now)
    if stored is not None:
        ensure_same_request(stored.fingerprint, request_fp)
        return stored
    session = new_session(merchant, markets, body, now, config)
    response = CheckoutView.of(session, now, gateway_url=config.gateway_url).to_json()
    winner = await store.save_checkout(
        CheckoutWrite(session), idempotency=NewIdempotency(scope, key, request_fp, 201, response, now)
    )
    if winner is not None:
        ensure_same_request(winner.fingerprint, request_fp)
        return winner
    log.info("checkout created", extra={"checkout_id": session.id, "merchant_id": merchant.id})
    return StoredResponse(request_fp, 201, response)


async def merchant_session(store: CheckoutStore, merchant: Merchant, checkout_id: str) -> CheckoutSession:
    """The merchant's own session; another merchant's is as good as absent."""
    session = await store.get_checkout(checkout_id) if len(checkout_id) <= 64 else None
    if session is None or session.merchant_id != merchant.id:
        raise CheckoutNotFound("no such checkout for this merchant", field="checkoutId")
    return session


async def get_checkout(
    store: CheckoutStore, clock: Clock, merchant: Merchant, checkout_id: str, *, config: CheckoutConfig
) -> CheckoutView:
    session = await merchant_session(store, merchant, checkout_id)
    return CheckoutView.of(session, clock.now(), gateway_url=config.gateway_url)


async def list_checkouts(
    store: CheckoutStore,
    clock: Clock,
    merchant: Merchant,
    *,
    limit: int,
    next_token: str | None,
    config: CheckoutConfig,
) -> CheckoutPage:
    after = decode_token(next_token) if next_token else None
    sessions = await store.list_checkouts(merchant.id, limit=limit + 1, after=after)
    page, more = sessions[:limit], len(sessions) > limit
    now = clock.now()
    token = encode_token(CheckoutCursor(page[-1].created_at, page[-1].id)) if more and page else None
    return CheckoutPage(items=[CheckoutView.of(s, now, gateway_url=config.gateway_url) for s in page], next_token=token)


# -- money: capture, void, refund ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Change:
    session: CheckoutSession
    plan: Plan | None = None  # changed (carries the version read), or None when only the session moves
    events: list[Event] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)


async def _session_plan(store: PlanStore, session: CheckoutSession) -> Plan:
    plan = await store.find_plan(session.plan_id) if session.plan_id else None
    if plan is None:
        raise PlanNotFound("the checkout's plan is missing", field="checkoutId")
    return plan


async def _write(
    store: CheckoutServiceStore, change: _Change, idempotency: NewIdempotency | None
) -> StoredResponse | None:
    if change.plan is None:
        return await store.save_checkout(CheckoutWrite(change.session, change.events), idempotency=idempotency)
    return await store.update_plan(
        change.plan,
        payments=change.payments,
        refunds=change.refunds,
        idempotency=idempotency,
        events=[],
        checkout=CheckoutWrite(change.session, change.events),
    )


async def _change_once(
    store: CheckoutServiceStore,
    clock: Clock,
    merchant: Merchant,
    *,
    checkout_id: str,
    op: str,
    body: dict[str, Any],
    idempotency_key: str | None,
    config: CheckoutConfig,
    build: Callable[[CheckoutSession, datetime], Awaitable[_Change]],
    status_code: int = 200,
) -> StoredResponse:
    key = check_key(idempotency_key)
    scope = scope_of(merchant)
    request_fp = fingerprint({"op": op, "checkoutId": checkout_id, "body": body})

    async def attempt() -> StoredResponse:
        now = clock.now()
        stored = await store.get_idempotent(scope, key, now=now)
        if stored is not None:
            ensure_same_request(stored.fingerprint, request_fp)
            return stored
        session = await merchant_session(store, merchant, checkout_id)
        change = await build(session, now)
        response = CheckoutView.of(change.session, now, gateway_url=config.gateway_url).to_json()
        winner = await _write(store, change, NewIdempotency(scope, key, request_fp, status_code, response, now))
        if winner is not None:
            ensure_same_request(winner.fingerprint, request_fp)
            return winner
        await _return_to_method(config, change)
        log.info(f"checkout {op}", extra={"checkout_id": checkout_id, "merchant_id": merchant.id})
        return StoredResponse(request_fp, status_code, response)

    return await retry_on_contention(attempt)


async def _return_to_method(config: CheckoutConfig, change: _Change) -> None:
    """What a stored refund or void gives back to the shopper goes back to their card."""
    if config.return_to_method is not None and change.plan is not None and change.refunds:
        await config.return_to_method(change.plan, change.refunds)


def _begin(plan: Plan, markets: MarketCatalog, now: datetime) -> tuple[list[Payment], list[Event]]:
    """The first capture starts the shopper's schedule: due dates from today; a pay-in-4 plan's
    first part is due, and taken, at once."""
    version = plan.terms.market_version
    market = (markets.version(version) if version else None) or markets.for_currency(plan.currency)
    if market is None:
        raise UnsupportedCurrency(f"{plan.currency} is no longer lent in", field="amount.currency")
    product = market.product(plan.terms.plan_type)
    plan.begin(due_dates(product, len(plan.installments), now.date()))
    events = [plan_activated(plan, now)]
    if not product.first_due_at_start or plan.installments[0].unpaid <= 0:
        return [], events  # monthly, or the first part was charged at confirmation
    first = plan.installments[0].amount
    payment = Payment(
        id=str(uuid.uuid4()),
        customer_id=plan.customer_id,
        plan_id=plan.id,
        amount=first,
        currency=plan.currency,
        source=PaymentSource.CONFIRMATION,
        created_at=now,
        allocations=plan.take_payment(first, plan.currency, now.date()),
    )
    return [payment], [*events, payment_applied(payment, plan, now)]


def _plan_refund(
    plan: Plan, markets: MarketCatalog, session: CheckoutSession, amount: int, reason: str, by: str, now: datetime
) -> tuple[Refund, list[Event]]:
    """Take ``amount`` off the plan's principal (a refund, or the release of an uncaptured part);
    on a plan with interest the installments still to come are recomputed on what is still
    financed, so no interest is charged on money the shopper no longer borrows."""
    today = now.date()
    marked = plan.mark_late(today, late_fee_terms(markets, plan))
    recomputed = refund_recomputation(plan, amount, today) if plan.status is PlanStatus.ACTIVE else None
    outcome = plan.refund(amount, session.currency, today, recomputed=recomputed)
    t = plan.terms
    record = Refund(
        id=str(uuid.uuid4()),
        customer_id=t.customer_id,
        plan_id=t.id,
        merchant_id=t.merchant_id,
        order_reference=t.order_reference,
        amount=amount,
        currency=t.currency,
        reason=reason,
        full=outcome.full,
        credits=outcome.credits,
        returned_to_shopper=outcome.returned_to_shopper,
        plan_status=plan.status,
        amount_outstanding=plan.totals().amount_outstanding,
        created_at=now,
        by=by,
    )
    return record, [*installments_late(plan, marked, now), refund_applied(record, now)]


def _money(amount: int, currency: str) -> dict[str, object]:
    return {"amount": amount, "currency": currency}


async def capture(
    store: CheckoutServiceStore,
    markets: MarketCatalog,
    clock: Clock,
    merchant: Merchant,
    *,
    checkout_id: str,
    body: CaptureInput,
    idempotency_key: str | None,
    config: CheckoutConfig,
) -> StoredResponse:
    """Capture part or all of what is authorized and not yet captured or voided."""

    async def build(session: CheckoutSession, now: datetime) -> _Change:
        captured = session.capture(body.amount.amount, body.amount.currency, now)
        event = checkout_event(
            EventType.CHECKOUT_CAPTURED,
            captured,
            now,
            gateway_url=config.gateway_url,
            amount=_money(body.amount.amount, session.currency),
        )
        if session.captured_amount > 0:
            return _Change(captured, events=[event])
        plan = await _session_plan(store, session)
        payments, plan_events = _begin(plan, markets, now)
        return _Change(captured, plan, [*plan_events, event], payments)

    return await _change_once(
        store,
        clock,
        merchant,
        checkout_id=checkout_id,
        op="capture",
        body=body.model_dump(by_alias=True, mode="json"),
        idempotency_key=idempotency_key,
        config=config,
        build=build,
        status_code=201,
    )


def _release(
    session: CheckoutSession,
    plan: Plan,
    markets: MarketCatalog,
    now: datetime,
    *,
    by: str,
    expiring: bool,
    gateway_url: str,
) -> _Change:
    """Void what is not captured: off the plan's principal like a refund (all of it before any
    capture: the plan ends and its credit is released)."""
    uncaptured = session.uncaptured
    voided = session.void(now, expiring=expiring)
    reason = "authorization expired: uncaptured amount released" if expiring else "void: uncaptured amount released"
    record, plan_events = _plan_refund(plan, markets, session, uncaptured, reason, by, now)
    kind = EventType.CHECKOUT_EXPIRED if voided.status is CheckoutStatus.EXPIRED else EventType.CHECKOUT_VOIDED
    event = checkout_event(kind, voided, now, gateway_url=gateway_url, released=_money(uncaptured, session.currency))
    return _Change(voided, plan, [*plan_events, event], refunds=[record])


async def void(
    store: CheckoutServiceStore,
    markets: MarketCatalog,
    clock: Clock,
    merchant: Merchant,
    *,
    checkout_id: str,
    by: str,
    idempotency_key: str | None,
    config: CheckoutConfig,
) -> StoredResponse:
    """Release what is not captured (before any capture: cancel the plan, release the credit)."""

    async def build(session: CheckoutSession, now: datetime) -> _Change:
        session.void(now)  # InvalidCheckoutState before reading the plan
        plan = await _session_plan(store, session)
        return _release(session, plan, markets, now, by=by, expiring=False, gateway_url=config.gateway_url)

    return await _change_once(
        store,
        clock,
        merchant,
        checkout_id=checkout_id,
        op="void",
        body={},
        idempotency_key=idempotency_key,
        config=config,
        build=build,
    )


async def refund(
    store: CheckoutServiceStore,
    markets: MarketCatalog,
    clock: Clock,
    merchant: Merchant,
    *,
    checkout_id: str,
    body: CheckoutRefundInput,
    by: str,
    idempotency_key: str | None,
    config: CheckoutConfig,
) -> StoredResponse:
    """Refund captured money (never more than captured less refunded)."""

    async def build(session: CheckoutSession, now: datetime) -> _Change:
        refunded = session.refund(body.amount.amount, body.amount.currency, now)
        plan = await _session_plan(store, session)
        record, plan_events = _plan_refund(plan, markets, session, body.amount.amount, body.reason, by, now)
        event = checkout_event(
            EventType.CHECKOUT_REFUNDED,
            refunded,
            now,
            gateway_url=config.gateway_url,
            amount=_money(body.amount.amount, session.currency),
            refundId=record.id,
        )
        return _Change(refunded, plan, [*plan_events, event], refunds=[record])

    return await _change_once(
        store,
        clock,
        merchant,
        checkout_id=checkout_id,
        op="refund",
        body=body.model_dump(by_alias=True, mode="json"),
        idempotency_key=idempotency_key,
        config=config,
        build=build,
        status_code=201,
    )


# -- the sweeper ---------------------------------------------------------------------------


async def _end(
    store: CheckoutServiceStore, markets: MarketCatalog, session: CheckoutSession, now: datetime, config: CheckoutConfig
) -> bool:
    """End one session whose deadline passed; False when there was nothing to do."""
    status = session.status
    if status is CheckoutStatus.AUTHORIZED:
        if (
            session.authorization_expires_at is None
            or now < session.authorization_expires_at
            or session.uncaptured <= 0
        ):
            return False
        plan = await _session_plan(store, session)
        change = _release(
            session,
            plan,
            markets,
            now,
            by="system:authorization-expiry",
            expiring=True,
            gateway_url=config.gateway_url,
        )
        await _write(store, change, None)
        await _return_to_method(config, change)
        return True
    if session.status_at(now) is not CheckoutStatus.EXPIRED:
        return False
    ended = session.expired(now)
    if status is CheckoutStatus.APPROVED and session.customer_id and session.application_id:
        application = await store.get_application(session.customer_id, session.application_id)
        if application is not None and application.status is ApplicationStatus.CANCELLED:
            ended = session.cancelled(now, late=True)
    await store.save_checkout(
        CheckoutWrite(ended, [status_event(ended, now, gateway_url=config.gateway_url)]), idempotency=None
    )
    return True


async def sweep_checkouts(
    store: CheckoutServiceStore,
    markets: MarketCatalog,
    clock: Clock,
    *,
    config: CheckoutConfig,
    batch: int = SWEEP_BATCH,
) -> int:
    """Expire OPEN sessions and holds past their time, and void authorizations not captured in
    time (their credit is released); how many sessions were ended."""
    from bnpl_common.errors import ConcurrentUpdate

    now = clock.now()
    ended = 0
    seen: set[str] = set()
    while True:
        due = await store.due_checkouts(now=now, limit=batch)
        fresh = [s for s in due if s.id not in seen]
        for session in fresh:
            seen.add(session.id)
            try:
                if await _end(store, markets, session, now, config):
                    ended += 1
                    log.info("checkout ended", extra={"checkout_id": session.id})
            except ConcurrentUpdate:
                continue  # moved meanwhile: the next sweep looks again
        if len(due) < batch or not fresh:
            return ended
