"""Shapes of the merchant's ``/v1/merchant/checkouts`` and the shopper's ``/v1/checkout-sessions``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StrictInt, model_validator

from bnpl_credit.checkouts.model import CheckoutSession
from bnpl_credit.schemas import CamelModel, InputModel, Money, MoneyInput, Offer, OrderText, PlanType

CheckoutStatusName = Literal[
    "OPEN",
    "APPROVED",
    "AUTHORIZED",
    "DECLINED",
    "REFERRED",
    "EXPIRED",
    "CANCELLED",
    "CAPTURED",
    "PARTIALLY_CAPTURED",
    "VOIDED",
    "REFUNDED",
    "PARTIALLY_REFUNDED",
]
Url = Annotated[str, Field(min_length=8, max_length=2048, pattern=r"^https?://[^\s]+$")]
ItemName = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]


class ItemInput(InputModel):
    name: ItemName
    quantity: Annotated[StrictInt, Field(gt=0, le=10_000)]
    unit_price: MoneyInput


class ShopperInput(InputModel):
    email: Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    phone_number: Annotated[str, Field(pattern=r"^\+[1-9]\d{6,14}$")] | None = None


class CheckoutInput(InputModel):
    order_reference: OrderText
    amount: MoneyInput
    items: Annotated[list[ItemInput], Field(max_length=100)] | None = None
    shopper: ShopperInput | None = None
    return_url: Url
    cancel_url: Url
    plan_types: Annotated[list[PlanType], Field(min_length=1, max_length=4)] | None = None

    @model_validator(mode="after")
    def _distinct_plan_types(self) -> CheckoutInput:
        if self.plan_types is not None and len(set(self.plan_types)) != len(self.plan_types):
            raise ValueError("planTypes must not repeat")
        return self


class CaptureInput(InputModel):
    amount: MoneyInput


class VoidInput(InputModel):
    pass


class CheckoutRefundInput(InputModel):
    amount: MoneyInput
    reason: Annotated[str, Field(min_length=1, max_length=500)] = "merchant refund"


class Item(CamelModel):
    name: str
    quantity: int
    unit_price: Money


def _items(session: CheckoutSession) -> list[Item]:
    return [
        Item(name=i.name, quantity=i.quantity, unit_price=Money.of(i.unit_price, session.currency))
        for i in session.items
    ]


class CheckoutView(CamelModel):
    """The merchant's view of a session: the authoritative state."""

    id: str
    merchant_id: str
    order_reference: str
    status: CheckoutStatusName
    checkout_token: str
    redirect_url: str
    expires_at: datetime
    amount: Money
    items: list[Item]
    plan_types: list[PlanType]
    application_id: str | None
    plan_id: str | None
    authorized_amount: Money
    captured_amount: Money
    voided_amount: Money
    refunded_amount: Money
    authorization_expires_at: datetime | None
    return_url: str
    cancel_url: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, session: CheckoutSession, now: datetime, *, gateway_url: str) -> CheckoutView:
        c = session.currency
        return cls(
            id=session.id,
            merchant_id=session.merchant_id,
            order_reference=session.order_reference,
            status=session.status_at(now).value,
            checkout_token=session.token,
            redirect_url=redirect_url(gateway_url, session.token),
            expires_at=session.expires_at,
            amount=Money.of(session.amount, c),
            items=_items(session),
            plan_types=list(session.plan_types),
            application_id=session.application_id,
            plan_id=session.plan_id,
            authorized_amount=Money.of(session.authorized_amount, c),
            captured_amount=Money.of(session.captured_amount, c),
            voided_amount=Money.of(session.voided_amount, c),
            refunded_amount=Money.of(session.refunded_amount, c),
            authorization_expires_at=session.authorization_expires_at,
            return_url=session.return_url,
            cancel_url=session.cancel_url,
            created_at=session.created_at,
            updated_at=session.updated_at,
        )


def redirect_url(gateway_url: str, token: str) -> str:
    return f"{gateway_url.rstrip('/')}/checkout/?token={token}"


class CheckoutPage(CamelModel):
    items: list[CheckoutView]
    next_token: str | None


class ShopperCheckout(CamelModel):
    """What the checkout page shows: the order as the merchant made it, and the plans on offer."""

    id: str
    merchant_id: str
    merchant_name: str
    order_reference: str
    amount: Money
    items: list[Item]
    plan_types: list[PlanType]
    offers: list[Offer]
    status: CheckoutStatusName
    expires_at: datetime
    application_id: str | None
    merchant_redirect_url: str | None = Field(
        description="where to send the shopper once their part is over: the signed return (or cancel) URL"
    )
