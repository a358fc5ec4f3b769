"""Request and response shapes of ``/v1/applications`` (contracts.md "Credit service")."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StrictBool

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


class AdverseActionNotice(CamelModel):
    """What a declined shopper is told (ECOA / Reg B 12 CFR 1002.9)."""

    action: Literal["DECLINED"]
    date: date
    reasons: list[ReasonOut] = Field(description="the principal reasons, at most four")
    score: int | None
    text: str


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


class ApplicationPage(CamelModel):
    items: list[CreditApplication]
    next_token: str | None
