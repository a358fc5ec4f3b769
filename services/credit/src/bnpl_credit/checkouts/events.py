"""Outbox events about a checkout (delivered to the merchant as webhooks): ``data`` carries the
merchant id, the checkout id (the ordering key) and the checkout as the merchant sees it."""

from __future__ import annotations

from datetime import datetime

from bnpl_credit.checkouts.model import CheckoutSession, CheckoutStatus
from bnpl_credit.checkouts.schemas import CheckoutView
from bnpl_credit.events.model import Event, EventType

_BY_STATUS = {
    CheckoutStatus.APPROVED: EventType.CHECKOUT_APPROVED,
    CheckoutStatus.DECLINED: EventType.CHECKOUT_DECLINED,
    CheckoutStatus.REFERRED: EventType.CHECKOUT_REFERRED,
    CheckoutStatus.AUTHORIZED: EventType.CHECKOUT_AUTHORIZED,
    CheckoutStatus.EXPIRED: EventType.CHECKOUT_EXPIRED,
    CheckoutStatus.CANCELLED: EventType.CHECKOUT_CANCELLED,
    CheckoutStatus.VOIDED: EventType.CHECKOUT_VOIDED,
}


def checkout_event(
    event_type: EventType, session: CheckoutSession, now: datetime, *, gateway_url: str, **extra: object
) -> Event:
    view = CheckoutView.of(session, now, gateway_url=gateway_url).to_json()
    view.pop("checkoutToken", None)  # the shopper's bearer token stays out of events and logs
    view.pop("redirectUrl", None)
    return Event.new(
        event_type,
        now=now,
        customer_id=session.customer_id or "",
        data={"merchantId": session.merchant_id, "checkoutId": session.id, "checkout": view, **extra},
    )


def status_event(session: CheckoutSession, now: datetime, *, gateway_url: str) -> Event:
    """The event of a session that just moved to its current status."""
    return checkout_event(_BY_STATUS[session.status], session, now, gateway_url=gateway_url)
