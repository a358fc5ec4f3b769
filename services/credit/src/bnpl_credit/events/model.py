"""Outbox events: what a change announces, written in the same transaction as the change.

Each event has a unique ``id`` (the relay publishes at least once: consumers dedupe on it)
and carries no personal data beyond the customer's opaque ``sub``. Its JSON form
(:meth:`Event.to_message`) is the published contract: ``{id, type, source, occurredAt,
customerId, data}``; the outbox stores that same form.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from bnpl_common.timefmt import format_instant, parse_instant

EVENT_SOURCE = "bnpl.credit"


class EventType(StrEnum):
    DECISION_MADE = "decision.made"
    APPLICATION_CANCELLED = "application.cancelled"
    APPLICATION_EXPIRED = "application.expired"
    PLAN_ACTIVATED = "plan.activated"
    PAYMENT_APPLIED = "payment.applied"
    INSTALLMENT_LATE = "installment.late"
    REFUND_APPLIED = "refund.applied"
    LATE_FEE_WAIVED = "plan.late_fee_waived"  # staff waived late fees (plans.waivers)
    # collections (bnpl_credit.collections): charges through the PSP, and money back to the method
    INSTALLMENT_CHARGED = "installment.charged"
    INSTALLMENT_CHARGE_FAILED = "installment.charge_failed"
    INSTALLMENT_RETRY_SCHEDULED = "installment.retry_scheduled"
    PAYMENT_REFUNDED = "payment.refunded"
    # merchant-facing (delivered as webhooks): data carries merchantId, checkoutId and the checkout
    CHECKOUT_APPROVED = "checkout.approved"
    CHECKOUT_DECLINED = "checkout.declined"
    CHECKOUT_REFERRED = "checkout.referred"
    CHECKOUT_AUTHORIZED = "checkout.authorized"
    CHECKOUT_EXPIRED = "checkout.expired"
    CHECKOUT_CAPTURED = "checkout.captured"
    CHECKOUT_VOIDED = "checkout.voided"
    CHECKOUT_REFUNDED = "checkout.refunded"
    CHECKOUT_CANCELLED = "checkout.cancelled"
    PLAN_COMPLETED = "plan.completed"
    PLAN_INSTALLMENT_LATE = "plan.installment_late"
    # review cases (bnpl_credit.reviews): data carries caseId and applicationId
    REVIEW_OPENED = "review.opened"
    REVIEW_UPDATED = "review.updated"
    REVIEW_DECIDED = "review.decided"
    REVIEW_EXPIRED = "review.expired"


# An event's payload is the published message body, so it is JSON already; each event type's
# builder (next to the change that raises it) fixes its fields.
EventData = Mapping[str, object]


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    type: EventType
    occurred_at: datetime
    customer_id: str
    data: EventData
    source: str = EVENT_SOURCE

    @classmethod
    def new(cls, event_type: EventType, *, now: datetime, customer_id: str, data: EventData) -> Event:
        return cls(str(uuid.uuid4()), event_type, now, customer_id, data)

    def to_message(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": str(self.type),
            "source": self.source,
            "occurredAt": format_instant(self.occurred_at),
            "customerId": self.customer_id,
            "data": dict(self.data),
        }

    @classmethod
    def from_message(cls, message: Mapping[str, Any]) -> Event:
        return cls(
            id=message["id"],
            type=EventType(message["type"]),
            occurred_at=parse_instant(message["occurredAt"]),
            customer_id=message["customerId"],
            data=message["data"],
            source=message.get("source", EVENT_SOURCE),
        )
