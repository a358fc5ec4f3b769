"""What staff see of a customer's business with the platform: no name, address or phone (those
are the user service's, behind a reason)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from bnpl_common.text import check_plain_text
from pydantic import AfterValidator, Field, StrictInt, StringConstraints

from bnpl_credit.applications.model import Application
from bnpl_credit.merchants.model import Merchant
from bnpl_credit.plans.model import Payment as PaymentRecord
from bnpl_credit.plans.schemas import Allocation, PaymentPlan
from bnpl_credit.refunds.schemas import Refund
from bnpl_credit.schemas import CamelModel, InputModel, Money


class Owner(CamelModel):
    customer_id: str


class ApplicationSummary(CamelModel):
    id: str
    status: str
    decision: str
    amount: Money
    merchant_id: str
    order_reference: str
    plan_type: str
    created_at: datetime
    plan_id: str | None

    @classmethod
    def of(cls, app: Application, now: datetime) -> ApplicationSummary:
        order = app.order
        return cls(
            id=app.id,
            status=str(app.status_at(now)),
            decision=str(app.decision),
            amount=Money.of(order.amount, order.currency),
            merchant_id=order.merchant_id,
            order_reference=order.order_reference,
            plan_type=order.plan_type,
            created_at=app.created_at,
            plan_id=app.plan_id,
        )


class CustomerOverview(CamelModel):
    customer_id: str
    applications: list[ApplicationSummary]
    plans: list[PaymentPlan]


class PaymentRow(CamelModel):
    id: str
    amount: Money
    source: str
    created_at: datetime
    allocations: list[Allocation]

    @classmethod
    def of(cls, payment: PaymentRecord) -> PaymentRow:
        currency = payment.currency
        return cls(
            id=payment.id,
            amount=Money.of(payment.amount, currency),
            source=payment.source.value,
            created_at=payment.created_at,
            allocations=[
                Allocation(sequence=a.sequence, amount=Money.of(a.amount, currency)) for a in payment.allocations
            ],
        )


class StaffPlan(CamelModel):
    customer_id: str
    plan: PaymentPlan
    payments: list[PaymentRow]
    refunds: list[Refund]


class WaiverInput(InputModel):
    installment: Annotated[StrictInt, Field(ge=1, le=60)] | None = Field(
        default=None, description="the installment's sequence; none: every unpaid late fee"
    )
    reason: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=5, max_length=500), AfterValidator(check_plain_text)
    ]


class WaivedFee(CamelModel):
    sequence: int
    amount: Money


class LateFeeWaiver(CamelModel):
    plan: PaymentPlan
    waived: list[WaivedFee]


class MerchantKeyView(CamelModel):
    access_key_id: str
    created_at: datetime
    retired_at: datetime | None
    valid: bool


class MerchantView(CamelModel):
    """A merchant without its secrets."""

    id: str
    display_name: str
    status: str
    market: str
    currency: str
    origins: list[str]
    webhook_url: str | None
    live_webhook_secrets: int
    keys: list[MerchantKeyView]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, m: Merchant, now: datetime) -> MerchantView:
        return cls(
            id=m.id,
            display_name=m.display_name,
            status=m.status.value,
            market=m.market,
            currency=m.currency,
            origins=list(m.origins),
            webhook_url=m.webhook_url,
            live_webhook_secrets=len(m.live_webhook_secrets(now)),
            keys=[
                MerchantKeyView(
                    access_key_id=k.access_key_id,
                    created_at=k.created_at,
                    retired_at=k.retired_at,
                    valid=k.valid_at(now),
                )
                for k in m.keys
            ],
            created_at=m.created_at,
            updated_at=m.updated_at,
        )


class MerchantList(CamelModel):
    items: list[MerchantView]


class MerchantInput(InputModel):
    merchant_id: Annotated[str, StringConstraints(min_length=2, max_length=63)]
    display_name: Annotated[str, StringConstraints(min_length=1, max_length=100), AfterValidator(check_plain_text)]
    market: Annotated[str, StringConstraints(min_length=2, max_length=2)]
    currency: Annotated[str, StringConstraints(min_length=3, max_length=3)]
    origins: Annotated[list[Annotated[str, StringConstraints(max_length=200)]], Field(min_length=1, max_length=10)]
    webhook_url: Annotated[str, StringConstraints(max_length=500)] | None = None


class OriginsInput(InputModel):
    origins: Annotated[list[Annotated[str, StringConstraints(max_length=200)]], Field(min_length=1, max_length=10)]


class WebhookUrlInput(InputModel):
    webhook_url: Annotated[str, StringConstraints(max_length=500)] | None = Field(
        description="where the merchant's events go; null: no webhooks"
    )


class StatusInput(InputModel):
    reason: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), AfterValidator(check_plain_text)]
        | None
    ) = None


class NewCredentials(CamelModel):
    """Shown once: the platform keeps only what checks a signature."""

    access_key_id: str
    secret_access_key: str


class MerchantCreated(CamelModel):
    merchant: MerchantView
    credentials: NewCredentials
    webhook_secret: str


class MerchantKeyCreated(CamelModel):
    merchant: MerchantView
    credentials: NewCredentials


class MerchantWebhookSecret(CamelModel):
    merchant: MerchantView
    webhook_secret: str
