"""Outbox events: written in the same transaction as the change they describe.

Types: ``decision.made``, ``application.cancelled``, ``application.expired``, ``plan.activated``,
``payment.applied``, ``installment.late``, ``refund.applied``. Each has a unique ``id``
(consumers dedupe on it: the relay publishes at least once). No personal data beyond the
customer's opaque ``sub``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from bnpl_credit.timefmt import iso

EVENT_SOURCE = "bnpl.credit"


def new_event(event_type: str, *, now: datetime, customer_id: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "source": EVENT_SOURCE,
        "occurredAt": iso(now),
        "customerId": customer_id,
        "data": data,
    }
