"""The stored JSON document of a webhook delivery (both adapters; timestamps sort as text)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bnpl_common.timefmt import format_instant, parse_instant

from bnpl_credit.webhooks.model import Attempt, AttemptTrigger, DeliveryStatus, WebhookDelivery

Doc = dict[str, Any]


def _opt_iso(moment: datetime | None) -> str | None:
    return format_instant(moment) if moment is not None else None


def _opt_time(text: str | None) -> datetime | None:
    return parse_instant(text) if text else None


def _attempt_doc(attempt: Attempt) -> Doc:
    return {
        "number": attempt.number,
        "attemptedAt": format_instant(attempt.attempted_at),
        "durationMs": attempt.duration_ms,
        "statusCode": attempt.status_code,
        "error": attempt.error,
        "url": attempt.url,
        "trigger": str(attempt.trigger),
    }


def _attempt_from_doc(doc: Doc) -> Attempt:
    return Attempt(
        number=int(doc["number"]),
        attempted_at=parse_instant(doc["attemptedAt"]),
        duration_ms=int(doc["durationMs"]),
        status_code=doc["statusCode"],
        error=doc["error"],
        url=doc["url"],
        trigger=AttemptTrigger(doc["trigger"]),
    )


def delivery_doc(delivery: WebhookDelivery) -> Doc:
    """Everything but ``version`` (stored beside it, as the checked column/attribute)."""
    return {
        "id": delivery.id,
        "merchantId": delivery.merchant_id,
        "eventId": delivery.event_id,
        "eventType": delivery.event_type,
        "orderingKey": delivery.ordering_key,
        "sequence": delivery.sequence,
        "payload": delivery.payload,
        "createdAt": format_instant(delivery.created_at),
        "status": str(delivery.status),
        "nextAttemptAt": _opt_iso(delivery.next_attempt_at),
        "retryUntil": format_instant(delivery.retry_until),
        "attempts": [_attempt_doc(a) for a in delivery.attempts],
        "deliveredAt": _opt_iso(delivery.delivered_at),
        "failedAt": _opt_iso(delivery.failed_at),
        "redeliveryRequestedAt": _opt_iso(delivery.redelivery_requested_at),
    }


def delivery_from_doc(doc: Doc, version: int) -> WebhookDelivery:
    return WebhookDelivery(
        id=doc["id"],
        merchant_id=doc["merchantId"],
        event_id=doc["eventId"],
        event_type=doc["eventType"],
        ordering_key=doc["orderingKey"],
        sequence=doc["sequence"],
        payload=doc["payload"],
        created_at=parse_instant(doc["createdAt"]),
        status=DeliveryStatus(doc["status"]),
        next_attempt_at=_opt_time(doc["nextAttemptAt"]),
        retry_until=parse_instant(doc["retryUntil"]),
        attempts=tuple(_attempt_from_doc(a) for a in doc["attempts"]),
        delivered_at=_opt_time(doc["deliveredAt"]),
        failed_at=_opt_time(doc["failedAt"]),
        redelivery_requested_at=_opt_time(doc["redeliveryRequestedAt"]),
        version=version,
    )
