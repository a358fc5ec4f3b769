"""Shapes of ``/v1/merchant/webhook-deliveries`` (camelCase on the wire)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from bnpl_credit.schemas import CamelModel
from bnpl_credit.webhooks.model import Attempt, WebhookDelivery


class WebhookAttempt(CamelModel):
    number: int
    attempted_at: datetime
    duration_ms: int
    status_code: int | None = Field(description="the receiver's HTTP status; null when there was no answer")
    error: str | None = Field(
        description="why there was no 2xx without a status: timeout, connection_error, address_refused, "
        "https_required, invalid_url, unresolvable, no_webhook_url, no_webhook_secret"
    )
    url: str
    trigger: Literal["SCHEDULED", "REDELIVERY"]

    @classmethod
    def of(cls, attempt: Attempt) -> WebhookAttempt:
        return cls(
            number=attempt.number,
            attempted_at=attempt.attempted_at,
            duration_ms=attempt.duration_ms,
            status_code=attempt.status_code,
            error=attempt.error,
            url=attempt.url,
            trigger=attempt.trigger.value,
        )


class WebhookDeliveryView(CamelModel):
    id: str
    event_id: str = Field(description="the webhook-id header of every attempt (dedupe on it)")
    event_type: str
    checkout_id: str
    status: Literal["PENDING", "DELIVERED", "FAILED"]
    created_at: datetime
    next_attempt_at: datetime | None = Field(description="when it is tried next (PENDING only)")
    retry_until: datetime = Field(description="retried until then; the first failure after it makes it FAILED")
    delivered_at: datetime | None
    failed_at: datetime | None
    attempts: list[WebhookAttempt]

    @classmethod
    def of(cls, delivery: WebhookDelivery) -> WebhookDeliveryView:
        return cls(
            id=delivery.id,
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            checkout_id=delivery.ordering_key,
            status=delivery.status.value,
            created_at=delivery.created_at,
            next_attempt_at=delivery.next_attempt_at,
            retry_until=delivery.retry_until,
            delivered_at=delivery.delivered_at,
            failed_at=delivery.failed_at,
            attempts=[WebhookAttempt.of(a) for a in delivery.attempts],
        )


class WebhookDeliveryPage(CamelModel):
    items: list[WebhookDeliveryView]
    next_token: str | None = None
