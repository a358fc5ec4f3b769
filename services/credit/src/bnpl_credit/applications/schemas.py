"""Request and response shapes of ``/v1/applications`` (``docs/contracts.md``, "Credit service")."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StrictBool

from bnpl_credit.applications.model import AdverseActionNotice as NoticeRecord
from bnpl_credit.applications.model import Application, Order
from bnpl_credit.schemas import (
    CamelModel,
    InputModel,
    Money,
    MoneyInput,
    NonNegativeMoney,
    Offer,
    OrderText,
    PlanType,
    ReasonOut,
)

ApplicationStatus = Literal["APPROVED", "DECLINED", "REFERRED", "CANCELLED", "EXPIRED", "CONFIRMED"]
Text = Annotated[str, Field(min_length=1, max_length=128)]


class OrderInput(InputModel):
    merchant_id: OrderText
    order_reference: OrderText
    amount: MoneyInput
    plan_type: PlanType

    def to_order(self) -> Order:
        return Order(self.merchant_id, self.order_reference, self.amount.amount, self.amount.currency, self.plan_type)


class ProfileSnapshot(CamelModel):
    """The caller's ``Customer`` as the gateway read it from the user service: the gateway sends
    the whole ``Customer``, so fields this service does not use are ignored (not refused)."""

    model_config = ConfigDict(extra="ignore")

    id: Annotated[str, Field(min_length=1, max_length=128)]
    email: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    date_of_birth: date
    phone_number: str | None = None
    phone_verified: StrictBool
    address: dict[str, Any] | None = None
    monthly_income: NonNegativeMoney
    monthly_expenses: NonNegativeMoney
    housing: Literal["RENT", "OWNER", "PARENTS", "OTHER"]
    employment: Literal["FIXED", "PART_TIME", "FREELANCE", "OTHER"]
    employment_years: Annotated[int, Field(ge=0, le=70)]
    assets: NonNegativeMoney
    debt: NonNegativeMoney
    created_at: datetime | None = None
    updated_at: datetime | None = None


class ApplicationInput(InputModel):
    order: OrderInput
    profile: ProfileSnapshot


CheckoutToken = Annotated[str, Field(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]


class ApplyInput(InputModel):
    """``{checkoutToken, planType, profile}``: merchant, reference and amount come from the
    merchant's checkout session. The legacy ``{order, profile}`` is still accepted."""

    checkout_token: CheckoutToken | None = None
    plan_type: PlanType | None = None
    order: OrderInput | None = None
    profile: ProfileSnapshot


class AdverseActionNotice(CamelModel):
    """What a declined shopper is told (ECOA / Reg B 12 CFR 1002.9)."""

    action: Literal["DECLINED"]
    date: date
    reasons: list[ReasonOut] = Field(description="the principal reasons, at most four")
    score: int | None
    text: str

    @classmethod
    def of(cls, notice: NoticeRecord) -> AdverseActionNotice:
        return cls(
            action="DECLINED",
            date=notice.date,
            reasons=ReasonOut.many(notice.reasons),
            score=notice.score,
            text=notice.text,
        )


class CreditApplication(CamelModel):
    id: str
    status: ApplicationStatus
    decision: Literal["APPROVED", "DECLINED", "REFERRED"]
    amount: Money
    merchant_id: str
    order_reference: str
    plan_type: PlanType
    created_at: datetime
    expires_at: datetime | None
    score: int | None
    risk_grade: str | None
    pd: float | None
    reasons: list[ReasonOut]
    notice: AdverseActionNotice | None = None
    offer: Offer | None
    model_version: str | None
    policy_version: str
    plan_id: str | None
    checkout_id: str | None = Field(default=None, description="the merchant's checkout session it was made for")

    @classmethod
    def of(cls, app: Application, now: datetime) -> CreditApplication:
        """The application as every route renders it (an approval past its hold reads EXPIRED)."""
        order = app.order
        return cls(
            id=app.id,
            status=app.status_at(now).value,
            decision=app.decision.value,
            amount=Money.of(order.amount, order.currency),
            merchant_id=order.merchant_id,
            order_reference=order.order_reference,
            plan_type=order.plan_type,
            created_at=app.created_at,
            expires_at=app.expires_at,
            score=app.score,
            risk_grade=app.risk_grade,
            pd=app.pd,
            reasons=ReasonOut.many(app.reasons),
            notice=AdverseActionNotice.of(app.notice) if app.notice is not None else None,
            offer=Offer.of(app.offer) if app.offer is not None else None,
            model_version=app.model_version,
            policy_version=app.policy_version,
            plan_id=app.plan_id,
        )


class ApplicationPage(CamelModel):
    items: list[CreditApplication]
    next_token: str | None
