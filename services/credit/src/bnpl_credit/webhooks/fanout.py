"""From the outbox to deliveries: every event that concerns a merchant becomes one delivery.

Runs in the relay step, before the events are marked published: a crash in between fans the
same events out again, and the deliveries (keyed by event id) are found already there. The
event stays the single source; a delivery only freezes the body that will be sent.

Merchant events: the ``checkout.*`` types (their data carries ``merchantId``, ``checkoutId``
and the merchant's view of the checkout, as written), ``installment.late`` as
``plan.installment_late`` and ``plan.completed``, for plans made from a checkout (their data
carries ``merchantId`` and ``checkoutId``; plans without a checkout concern no merchant's
webhook). Plan payloads name the plan, the order and the installment, never the shopper.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol

from bnpl_common.timefmt import format_instant

from bnpl_credit.checkouts.model import CheckoutSession
from bnpl_credit.events.model import Event
from bnpl_credit.plans.ledger import Plan
from bnpl_credit.webhooks.model import WebhookDelivery
from bnpl_credit.webhooks.ports import WebhookDeliveryStore

CHECKOUT_PREFIX = "checkout."
PLAN_WEBHOOK_TYPES: Mapping[str, str] = {
    "installment.late": "plan.installment_late",
    "plan.installment_late": "plan.installment_late",
    "plan.completed": "plan.completed",
    # collections: the shopper's card charged, declined, retried, refunded (amounts, never the card)
    "installment.charged": "plan.installment_charged",
    "installment.charge_failed": "plan.installment_charge_failed",
    "installment.retry_scheduled": "plan.installment_retry_scheduled",
    "payment.refunded": "plan.payment_refunded",
}
# the fields of plan events a merchant gets (the event may carry more, e.g. for the data lake)
_PLAN_FIELDS = (
    "merchantId",
    "checkoutId",
    "planId",
    "orderReference",
    "sequence",
    "dueDate",
    "lateFee",
    "completedAt",
    "amount",
    "attempt",
    "declineCode",
    "nextAttemptOn",
)


class WebhookReceiver(Protocol):
    """What fan-out and delivery read of a merchant (the registry's ``Merchant`` has it)."""

    @property
    def id(self) -> str: ...

    @property
    def webhook_url(self) -> str | None: ...

    def live_webhook_secrets(self, now: datetime) -> tuple[str, ...]:
        """Every secret a receiver may be checking (two during a rotation)."""
        ...


class ReceiverDirectory(Protocol):
    async def get_merchant(self, merchant_id: str) -> WebhookReceiver | None: ...


class PlanOrigins(Protocol):
    async def find_plan(self, plan_id: str) -> Plan | None: ...

    async def checkout_by_application(self, application_id: str) -> CheckoutSession | None: ...


class FanOutStore(WebhookDeliveryStore, ReceiverDirectory, PlanOrigins, Protocol): ...


def webhook_type(event: Event) -> str | None:
    """The webhook type an event is sent as; None: not a merchant's event."""
    name = str(event.type)
    if name.startswith(CHECKOUT_PREFIX):
        return name
    return PLAN_WEBHOOK_TYPES.get(name)


def webhook_data(event: Event, wtype: str) -> dict[str, object]:
    if wtype.startswith(CHECKOUT_PREFIX):
        return dict(event.data)
    return {name: event.data[name] for name in _PLAN_FIELDS if name in event.data}


def webhook_payload(event: Event, wtype: str) -> str:
    """The body every attempt sends: ``{type, id, timestamp, data}``."""
    body = {
        "type": wtype,
        "id": event.id,
        "timestamp": format_instant(event.occurred_at),
        "data": webhook_data(event, wtype),
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True)


async def _plan_origin(store: FanOutStore, event: Event) -> tuple[str, str, dict[str, object]] | None:
    """The merchant and checkout of a plan event's plan, with the order fields to add; None when
    the plan did not come from a checkout."""
    plan_id = event.data.get("planId")
    if not isinstance(plan_id, str):
        return None
    plan = await store.find_plan(plan_id)
    if plan is None:
        return None
    checkout = await store.checkout_by_application(plan.terms.application_id)
    if checkout is None:
        return None
    extra: dict[str, object] = {
        "merchantId": checkout.merchant_id,
        "checkoutId": checkout.id,
        "orderReference": checkout.order_reference,
    }
    return checkout.merchant_id, checkout.id, extra


async def fan_out(
    store: FanOutStore,
    events: Sequence[Event],
    *,
    now: datetime,
    window: timedelta,
    merchants: set[str] | None = None,
) -> int:
    """Create the deliveries of ``events`` (idempotent); how many were new. ``merchants`` gets
    the ids of the merchants they go to."""
    deliveries: list[WebhookDelivery] = []
    receivers: dict[str, WebhookReceiver | None] = {}
    for event in events:
        wtype = webhook_type(event)
        if wtype is None:
            continue
        merchant_id, checkout_id = event.data.get("merchantId"), event.data.get("checkoutId")
        if not wtype.startswith(CHECKOUT_PREFIX) and not isinstance(checkout_id, str):
            origin = await _plan_origin(store, event)
            if origin is None:
                continue
            merchant_id, checkout_id, extra = origin
            event = replace(event, data={**event.data, **extra})
        if not isinstance(merchant_id, str) or not isinstance(checkout_id, str):
            continue
        if merchant_id not in receivers:
            receivers[merchant_id] = await store.get_merchant(merchant_id)
        receiver = receivers[merchant_id]
        if receiver is None or not receiver.webhook_url:
            continue  # no endpoint registered when it happened: the GET is the merchant's source
        deliveries.append(
            WebhookDelivery.new(
                event_id=event.id,
                merchant_id=merchant_id,
                event_type=wtype,
                ordering_key=checkout_id,
                occurred_at=event.occurred_at,
                payload=webhook_payload(event, wtype),
                now=now,
                window=window,
            )
        )
    if merchants is not None:
        merchants.update(d.merchant_id for d in deliveries)
    return await store.add_deliveries(deliveries) if deliveries else 0
