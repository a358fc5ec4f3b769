"""API shapes shared by several routes: money, offers, reasons (camelCase on the wire)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from bnpl_common.money import MAX_AMOUNT
from pydantic import BaseModel, ConfigDict, Field, StrictInt
from pydantic.alias_generators import to_camel

from bnpl_credit.applications.model import Offer as OfferRecord
from bnpl_credit.decision.engine import Reason

PlanType = Literal["PAY_IN_4", "MONTHLY_3", "MONTHLY_6", "MONTHLY_12"]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. EUR")]
# A merchant id or order reference: 1-128 characters, no "#" (it separates the parts of the
# DynamoDB keys, so "a#b" + "c" would be the same order as "a" + "b#c") and no control characters.
OrderText = Annotated[
    str,
    Field(
        min_length=1,
        max_length=128,
        pattern=r"^[^#\x00-\x1f\x7f]+$",
        description='1-128 characters; no "#", no control characters',
    ),
]


class CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, validate_by_alias=True)

    def to_json(self) -> dict[str, Any]:
        """The JSON body as sent (what an idempotency record keeps)."""
        return self.model_dump(by_alias=True, mode="json")


class InputModel(CamelModel):
    """A request body: an unknown field is a 422 naming it, never silently dropped."""

    model_config = ConfigDict(extra="forbid")


class MoneyInput(InputModel):
    """A positive amount in minor units."""

    amount: Annotated[StrictInt, Field(gt=0, le=MAX_AMOUNT)]
    currency: CurrencyCode


class NonNegativeMoney(CamelModel):
    amount: Annotated[StrictInt, Field(ge=0, le=MAX_AMOUNT)]
    currency: CurrencyCode


class Money(CamelModel):
    amount: int
    currency: str

    @classmethod
    def of(cls, amount: int, currency: str) -> Money:
        return cls(amount=amount, currency=currency)


class ReasonOut(CamelModel):
    code: str
    description: str

    @classmethod
    def many(cls, reasons: tuple[Reason, ...]) -> list[ReasonOut]:
        return [cls(code=r.code, description=r.description) for r in reasons]


class OfferInstallment(CamelModel):
    sequence: int
    due_date: date
    amount: Money


class Offer(CamelModel):
    plan_type: PlanType
    amount_financed: Money
    finance_charge: Money
    total_of_payments: Money
    apr: float = Field(description="percent, e.g. 19.99")
    apr_basis_points: int
    installments: list[OfferInstallment]

    @classmethod
    def of(cls, offer: OfferRecord) -> Offer:
        s, currency = offer.schedule, offer.currency
        return cls(
            plan_type=offer.plan_type,
            amount_financed=Money.of(s.amount_financed, currency),
            finance_charge=Money.of(s.finance_charge, currency),
            total_of_payments=Money.of(s.total_of_payments, currency),
            apr=offer.apr,
            apr_basis_points=s.apr_basis_points,
            installments=[
                OfferInstallment(sequence=i.sequence, due_date=i.due_date, amount=Money.of(i.amount, currency))
                for i in s.installments
            ],
        )
