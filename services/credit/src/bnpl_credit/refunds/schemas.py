"""Shapes of ``POST /v1/merchant/refunds``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, model_validator

from bnpl_credit.plans.model import Refund as RefundRecord
from bnpl_credit.plans.schemas import PlanStatus
from bnpl_credit.schemas import CamelModel, InputModel, Money, MoneyInput, OrderText

Text = Annotated[str, Field(min_length=1, max_length=128)]


class RefundInput(InputModel):
    """Name the plan by ``planId``, or by the order (``merchantId`` + ``orderReference``; refused
    with 409 ``AmbiguousOrder`` when more than one plan carries that order)."""

    plan_id: Text | None = None
    merchant_id: OrderText | None = None
    order_reference: OrderText | None = None
    amount: MoneyInput
    reason: Annotated[str, Field(min_length=1, max_length=500)]

    @model_validator(mode="after")
    def _one_way_to_name_the_plan(self) -> RefundInput:
        by_order = self.merchant_id is not None and self.order_reference is not None
        if (self.plan_id is None) == (not by_order):
            raise ValueError("give planId, or merchantId and orderReference")
        return self


class Credit(CamelModel):
    sequence: int
    amount: Money


class Refund(CamelModel):
    id: str
    plan_id: str
    merchant_id: str
    order_reference: str
    amount: Money
    reason: str
    full: bool = Field(description="the refunds reached the principal: the plan is REFUNDED")
    credits: list[Credit] = Field(description="taken off installments, last first")
    returned_to_shopper: Money = Field(description="what the shopper had paid beyond what they now owe")
    plan_status: PlanStatus
    amount_outstanding: Money
    created_at: datetime

    @classmethod
    def of(cls, refund: RefundRecord) -> Refund:
        currency = refund.currency
        return cls(
            id=refund.id,
            plan_id=refund.plan_id,
            merchant_id=refund.merchant_id,
            order_reference=refund.order_reference,
            amount=Money.of(refund.amount, currency),
            reason=refund.reason,
            full=refund.full,
            credits=[Credit(sequence=c.sequence, amount=Money.of(c.amount, currency)) for c in refund.credits],
            returned_to_shopper=Money.of(refund.returned_to_shopper, currency),
            plan_status=refund.plan_status.value,
            amount_outstanding=Money.of(refund.amount_outstanding, currency),
            created_at=refund.created_at,
        )
