"""API shapes shared by several routes: money, offers, reasons (camelCase on the wire)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from bnpl_common.money import MAX_AMOUNT
from pydantic import BaseModel, ConfigDict, Field, StrictInt
from pydantic.alias_generators import to_camel

from bnpl_credit.applications.model import Offer as OfferRecord
from bnpl_credit.decision.engine import Reason
from bnpl_credit.markets.catalog import DisclosedRate

PlanType = Literal["PAY_IN_4", "MONTHLY_3", "MONTHLY_6", "MONTHLY_12"]
RateKind = Literal["APRC", "APR"]
NOMINAL_APR = (
    "the nominal yearly borrowing rate in percent, e.g. 24.99: what the interest is computed at; "
    "not the rate disclosed to the shopper (annualRate)"
)
ANNUAL_RATE = (
    "the annual rate the market requires to be disclosed, in percent, rounded as the market requires "
    "(EU and UK: APRC, total cost of credit, e.g. 28.1; US: Regulation Z APR, e.g. 24.99)"
)
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


class RateFields(CamelModel):
    """The disclosed rate beside an offer's or a plan's figures."""

    rate_kind: RateKind = Field(description="APRC (EU, UK: Directive 2023/2225 Annex III) or APR (US: Regulation Z)")
    rate_label: str = Field(description='what the shopper reads before annualRate, e.g. "APRC", "Representative APR"')
    annual_rate: float = Field(description=ANNUAL_RATE)

    @staticmethod
    def of_rate(rate: DisclosedRate) -> dict[str, Any]:
        return {"rate_kind": rate.kind.value, "rate_label": rate.label, "annual_rate": float(rate.annual_rate)}


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


class Offer(RateFields):
    plan_type: PlanType
    amount_financed: Money
    finance_charge: Money
    total_of_payments: Money
    apr: float = Field(description=NOMINAL_APR)
    apr_basis_points: int = Field(description="apr in basis points")
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
            **RateFields.of_rate(s.rate),
            installments=[
                OfferInstallment(sequence=i.sequence, due_date=i.due_date, amount=Money.of(i.amount, currency))
                for i in s.installments
            ],
        )
