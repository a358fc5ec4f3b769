"""The shopper's side of a checkout session (called by the gateway with the shopper's token):
the page's view of the session, applying with the session's token, and the session's moves
when the application is confirmed or cancelled.

Nothing the shopper sends changes the order: merchant, reference and amount come from the
session. The return to the merchant is signed the Standard Webhooks way (HMAC-SHA256 with the
merchant's current webhook secret) over ``{"checkoutId", "outcome"}``, with a timestamp and a
message id ``ret_<checkoutId>_<outcome>``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bnpl_common.clock import Clock
from bnpl_common.errors import ValidationFailed
from bnpl_common.idempotency import StoredResponse
from standardwebhooks import Webhook

from bnpl_credit.applications import deciding
from bnpl_credit.applications.finance_review import FinanceReviewPolicy
from bnpl_credit.applications.model import Application, ApplicationStatus, Order
from bnpl_credit.applications.schemas import ApplicationInput, OrderInput, ProfileSignatureIn, ProfileSnapshot
from bnpl_credit.checkouts.config import CheckoutConfig
from bnpl_credit.checkouts.events import status_event
from bnpl_credit.checkouts.model import (
    RETURN_OUTCOMES,
    CheckoutNotFound,
    CheckoutSession,
    CheckoutStatus,
    InvalidCheckoutState,
)
from bnpl_credit.checkouts.ports import CheckoutStore, CheckoutWrite
from bnpl_credit.checkouts.schemas import Item, ShopperCheckout
from bnpl_credit.decision.engine import DecisionEngine
from bnpl_credit.decision.policy import PlanTypeName
from bnpl_credit.merchants.model import Merchant
from bnpl_credit.merchants.ports import MerchantStore
from bnpl_credit.quotes.schemas import QuoteInput
from bnpl_credit.quotes.service import quote
from bnpl_credit.schemas import Money, MoneyInput

_DECIDED = {
    ApplicationStatus.APPROVED: CheckoutStatus.APPROVED,
    ApplicationStatus.DECLINED: CheckoutStatus.DECLINED,
    ApplicationStatus.REFERRED: CheckoutStatus.REFERRED,
}


class ShopperCheckoutStore(CheckoutStore, MerchantStore, deciding.DecidingStore, Protocol):
    """What the shopper's checkout calls read and write."""


def return_payload(checkout_id: str, outcome: str) -> str:
    return json.dumps({"checkoutId": checkout_id, "outcome": outcome}, separators=(",", ":"), sort_keys=True)


def signed_return_url(session: CheckoutSession, outcome: CheckoutStatus, secret: str, now: datetime) -> str:
    """The return (or, for CANCELLED and EXPIRED, cancel) URL with the signed outcome appended."""
    webhook_id = f"ret_{session.id}_{outcome.value}"
    moment = datetime.fromtimestamp(int(now.timestamp()), tz=now.tzinfo)
    signature = Webhook(secret).sign(webhook_id, moment, return_payload(session.id, outcome.value))
    base = session.cancel_url if outcome in (CheckoutStatus.CANCELLED, CheckoutStatus.EXPIRED) else session.return_url
    parts = urlsplit(base)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [
        ("checkoutId", session.id),
        ("outcome", outcome.value),
        ("webhookId", webhook_id),
        ("timestamp", str(int(moment.timestamp()))),
        ("signature", signature),
    ]
    return urlunsplit(parts._replace(query=urlencode(query)))


async def _session_by_token(store: CheckoutStore, token: str) -> CheckoutSession:
    session = await store.checkout_by_token(token) if 16 <= len(token) <= 128 else None
    if session is None:
        raise CheckoutNotFound("no such checkout", field="checkoutToken")
    return session


async def _merchant(store: MerchantStore, session: CheckoutSession) -> Merchant:
    merchant = await store.get_merchant(session.merchant_id)
    if merchant is None:
        raise CheckoutNotFound("no such checkout", field="checkoutToken")
    return merchant


async def shopper_checkout(
    store: ShopperCheckoutStore, engine: DecisionEngine, clock: Clock, customer_id: str, *, token: str
) -> ShopperCheckout:
    """The page's view; a session that ran out while OPEN, or another shopper's, is gone (404)."""
    now = clock.now()
    session = await _session_by_token(store, token)
    if session.customer_id is not None and session.customer_id != customer_id:
        raise CheckoutNotFound("no such checkout", field="checkoutToken")
    status = session.status_at(now)
    if session.application_id is None and status is not CheckoutStatus.OPEN and status is not CheckoutStatus.CANCELLED:
        raise CheckoutNotFound("this checkout has expired", field="checkoutToken")
    merchant = await _merchant(store, session)
    offers = []
    if status is CheckoutStatus.OPEN:
        body = QuoteInput(
            amount=MoneyInput(amount=session.amount, currency=session.currency), plan_types=list(session.plan_types)
        )
        offers = quote(engine.policy, engine.markets, body=body, today=now.date()).offers
    returned = _return_outcome(status)
    # signed at the real time: the shop checks the timestamp against its own clock (as SigV4 is)
    return ShopperCheckout(
        id=session.id,
        merchant_id=session.merchant_id,
        merchant_name=merchant.display_name,
        order_reference=session.order_reference,
        amount=Money.of(session.amount, session.currency),
        items=[
            Item(name=i.name, quantity=i.quantity, unit_price=Money.of(i.unit_price, session.currency))
            for i in session.items
        ],
        plan_types=list(session.plan_types),
        offers=offers,
        status=status.value,
        expires_at=session.expires_at,
        application_id=session.application_id,
        merchant_redirect_url=(
            signed_return_url(session, returned, merchant.webhook_secret, datetime.now(UTC))
            if returned is not None
            else None
        ),
    )


def _return_outcome(status: CheckoutStatus) -> CheckoutStatus | None:
    """The outcome the shopper returns with: AUTHORIZED for an authorized session even once the
    merchant moved on (captured, refunded...); None while the shopper's part goes on."""
    if status in RETURN_OUTCOMES:
        return status
    if status in (CheckoutStatus.OPEN, CheckoutStatus.APPROVED):
        return None
    return CheckoutStatus.AUTHORIZED


@dataclass(frozen=True, slots=True)
class _SessionLink:
    """Moves the session with the decision of its application (read afresh on each attempt)."""

    store: CheckoutStore
    checkout_id: str
    customer_id: str
    config: CheckoutConfig

    async def write_for(self, application: Application, now: datetime) -> CheckoutWrite:
        session = await self.store.get_checkout(self.checkout_id)
        if session is None:
            raise CheckoutNotFound("no such checkout", field="checkoutToken")
        decided = session.decided(
            now,
            status=_DECIDED[application.status],
            application_id=application.id,
            customer_id=self.customer_id,
            hold_ends_at=application.expires_at if application.status is ApplicationStatus.APPROVED else None,
        )
        return CheckoutWrite(decided, [status_event(decided, now, gateway_url=self.config.gateway_url)])


async def apply_with_checkout(
    store: ShopperCheckoutStore,
    engine: DecisionEngine,
    clock: Clock,
    customer_id: str,
    *,
    token: str,
    plan_type: PlanTypeName,
    profile: ProfileSnapshot,
    idempotency_key: str | None,
    config: CheckoutConfig,
    profile_signature: ProfileSignatureIn | None = None,
    finance_review: FinanceReviewPolicy | None = None,
) -> StoredResponse:
    """Decide an application for the session's order (one per session)."""
    now = clock.now()
    session = await _session_by_token(store, token)
    if session.customer_id is not None and session.customer_id != customer_id:
        raise CheckoutNotFound("no such checkout", field="checkoutToken")
    if plan_type not in session.plan_types:
        raise ValidationFailed(
            f"this checkout offers {', '.join(session.plan_types)}",
            field="planType",
            info={"planTypes": list(session.plan_types)},
        )
    order = Order(session.merchant_id, session.order_reference, session.amount, session.currency, plan_type)
    body = ApplicationInput(
        order=OrderInput(
            merchant_id=order.merchant_id,
            order_reference=order.order_reference,
            amount=MoneyInput(amount=order.amount, currency=order.currency),
            plan_type=plan_type,
        ),
        profile=profile,
        profile_signature=profile_signature,
    )
    status = session.status_at(now)
    # a retry of the request that decided it gets its first answer (deciding replays it)
    replay = idempotency_key is not None and await store.get_idempotent(customer_id, idempotency_key, now=now)
    if status is not CheckoutStatus.OPEN and not replay:
        raise InvalidCheckoutState(f"this checkout is {status}", field="checkoutToken", info={"status": status})
    link = _SessionLink(store, session.id, customer_id, config)
    return await deciding.apply_for_credit(
        store,
        engine,
        clock,
        customer_id,
        body=body,
        idempotency_key=idempotency_key,
        checkout=link,
        finance_review=finance_review,
    )


def authorize_write(
    session: CheckoutSession, *, plan_id: str, amount: int, now: datetime, config: CheckoutConfig
) -> CheckoutWrite:
    """The session AUTHORIZED by the shopper's confirmation of its plan."""
    authorized = session.authorized(now, plan_id=plan_id, amount=amount, expires_at=now + config.authorization_ttl)
    return CheckoutWrite(authorized, [status_event(authorized, now, gateway_url=config.gateway_url)])


async def after_cancel(store: CheckoutStore, clock: Clock, *, application_id: str, config: CheckoutConfig) -> None:
    """The shopper cancelled the session's approval: the session is CANCELLED (the sweeper does
    it too, should this write not happen)."""
    from bnpl_common.retry import retry_on_contention

    async def attempt() -> None:
        session = await store.checkout_by_application(application_id)
        if session is None or session.status is not CheckoutStatus.APPROVED:
            return
        now = clock.now()
        cancelled = session.cancelled(now, late=True)
        await store.save_checkout(
            CheckoutWrite(cancelled, [status_event(cancelled, now, gateway_url=config.gateway_url)]), idempotency=None
        )

    await retry_on_contention(attempt)
