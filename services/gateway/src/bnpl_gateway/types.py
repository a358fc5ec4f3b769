"""The GraphQL types. Field names are the contract: ``tests/test_schema.py`` pins the core,
docs/contracts.md the REST shapes they are built from."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from bnpl_gateway.context import GatewayContext
from bnpl_gateway.convert import build
from bnpl_gateway.review_status import ReviewStatus, fetch_review_status

if TYPE_CHECKING:
    from bnpl_gateway.documents import Document

# Document lives with the other markets types; resolved lazily (it imports PaymentPlan from here)
LazyDocument = Annotated["Document", strawberry.lazy("bnpl_gateway.documents")]


@strawberry.enum
class PlanType(Enum):
    PAY_IN_4 = "PAY_IN_4"
    MONTHLY_3 = "MONTHLY_3"
    MONTHLY_6 = "MONTHLY_6"
    MONTHLY_12 = "MONTHLY_12"


@strawberry.enum(description="The credit decision's outcome.")
class DecisionStatus(Enum):
    APPROVED = "APPROVED"
    DECLINED = "DECLINED"
    REFERRED = "REFERRED"


@strawberry.enum(description="Where the application is in its life: the decision, then what the customer did.")
class ApplicationStatus(Enum):
    APPROVED = "APPROVED"
    DECLINED = "DECLINED"
    REFERRED = "REFERRED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    CONFIRMED = "CONFIRMED"


@strawberry.enum
class Housing(Enum):
    RENT = "RENT"
    OWNER = "OWNER"
    PARENTS = "PARENTS"
    OTHER = "OTHER"


@strawberry.enum
class Employment(Enum):
    FIXED = "FIXED"
    PART_TIME = "PART_TIME"
    FREELANCE = "FREELANCE"
    OTHER = "OTHER"


@strawberry.enum
class PlanStatus(Enum):
    AUTHORIZED = strawberry.enum_value(
        "AUTHORIZED", description="Confirmed at a merchant's checkout; the dates run from the merchant's first capture"
    )
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    REFUNDED = "REFUNDED"


@strawberry.enum
class InstallmentStatus(Enum):
    DUE = "DUE"
    PAID = "PAID"
    LATE = "LATE"
    REFUNDED = "REFUNDED"


@strawberry.enum(description="How the disclosed annual rate is defined in the shopper's market.")
class RateKind(Enum):
    APRC = strawberry.enum_value("APRC", description="EU and UK: the annual percentage rate of charge (total cost)")
    APR = strawberry.enum_value("APR", description="US: the Regulation Z annual percentage rate (actuarial)")


NOMINAL_APR = (
    "The nominal yearly borrowing rate in percent (e.g. 24.99), what the interest is computed at. "
    "Not the rate to show a shopper: that is annualRate."
)
ANNUAL_RATE = (
    "The annual rate the shopper's market requires to be disclosed, in percent, rounded as it requires "
    "(EU and UK: APRC, e.g. 28.1 for a 24.99 % nominal 12-month plan; US: Regulation Z APR, e.g. 24.99)."
)
RATE_LABEL = 'The name to show before annualRate: "APRC", "APR", or a representative label in a quote.'


@strawberry.type(description="Integer minor units of an ISO 4217 currency.")
class Money:
    amount: int
    currency: str


@strawberry.input
class MoneyInput:
    amount: int
    currency: str


@strawberry.type
class Address:
    line1: str
    line2: str | None
    city: str
    region: str | None
    postal_code: str
    country: str = strawberry.field(description="ISO 3166-1 alpha-2")


@strawberry.input
class AddressInput:
    line1: str
    city: str
    postal_code: str
    country: str = strawberry.field(description="ISO 3166-1 alpha-2")
    line2: str | None = strawberry.UNSET
    region: str | None = strawberry.UNSET


@strawberry.type
class Customer:
    id: strawberry.ID
    email: str | None
    given_name: str
    family_name: str
    date_of_birth: dt.date
    phone_number: str
    phone_verified: bool
    address: Address
    monthly_income: Money
    monthly_expenses: Money
    housing: Housing
    employment: Employment
    employment_years: int
    assets: Money
    debt: Money
    created_at: dt.datetime
    updated_at: dt.datetime

    @strawberry.field(description="Null before the first approval.")
    async def credit_limit(self, info: strawberry.Info) -> Money | None:
        line = await info.context.credit_line()
        return build(Money, line["creditLimit"]) if line and line.get("creditLimit") else None

    @strawberry.field(description="Null before the first approval.")
    async def available_credit(self, info: strawberry.Info) -> Money | None:
        line = await info.context.credit_line()
        if not line or not line.get("creditLimit") or not line.get("availableCredit"):
            return None
        return build(Money, line["availableCredit"])


@strawberry.input
class ProfileInput:
    given_name: str
    family_name: str
    date_of_birth: dt.date
    phone_number: str = strawberry.field(description="E.164")
    address: AddressInput
    monthly_income: MoneyInput
    monthly_expenses: MoneyInput
    housing: Housing
    employment: Employment
    employment_years: int
    assets: MoneyInput
    debt: MoneyInput
    email: str | None = strawberry.UNSET


@strawberry.input(description="Any subset of ProfileInput; a new phoneNumber must be verified again.")
class ProfileUpdateInput:
    given_name: str | None = strawberry.UNSET
    family_name: str | None = strawberry.UNSET
    date_of_birth: dt.date | None = strawberry.UNSET
    phone_number: str | None = strawberry.UNSET
    address: AddressInput | None = strawberry.UNSET
    monthly_income: MoneyInput | None = strawberry.UNSET
    monthly_expenses: MoneyInput | None = strawberry.UNSET
    housing: Housing | None = strawberry.UNSET
    employment: Employment | None = strawberry.UNSET
    employment_years: int | None = strawberry.UNSET
    assets: MoneyInput | None = strawberry.UNSET
    debt: MoneyInput | None = strawberry.UNSET
    email: str | None = strawberry.UNSET


@strawberry.type
class VerificationChallenge:
    destination: str = strawberry.field(description="The masked phone number the code was sent to.")
    expires_at: dt.datetime
    attempts_remaining: int


@strawberry.input(
    description="Apply for the order of a checkout session: the merchant, reference and amount come from the "
    "session the merchant's server created, never from the shopper."
)
class CreditApplicationInput:
    checkout_token: str = strawberry.field(description="The token of the checkout page's link (?token=).")
    plan_type: PlanType


@strawberry.type
class Reason:
    code: str
    description: str


@strawberry.type
class Installment:
    sequence: int
    due_date: dt.date
    amount: Money
    amount_paid: Money | None = strawberry.field(description="Null in an offer.")
    status: InstallmentStatus | None = strawberry.field(description="Null in an offer.")
    late_fee: Money | None = strawberry.field(default=None, description="Null in an offer.")
    refunded: Money | None = strawberry.field(default=None, description="Taken off by merchant refunds.")
    amount_due: Money | None = strawberry.field(
        default=None, description="amount + lateFee - refunded - interestCancelled."
    )
    late_since: dt.date | None = strawberry.field(default=None, description="When it became LATE.")
    interest_cancelled: Money | None = strawberry.field(
        default=None, description="Interest not earned, cancelled (early settlement, a refund's recomputed schedule)."
    )


@strawberry.type
class PlanOffer:
    plan_type: PlanType
    amount_financed: Money
    finance_charge: Money
    total_of_payments: Money
    apr: float = strawberry.field(description=NOMINAL_APR)
    apr_basis_points: int = strawberry.field(description="apr in basis points.")
    rate_kind: RateKind
    rate_label: str = strawberry.field(description=RATE_LABEL)
    annual_rate: float = strawberry.field(description=ANNUAL_RATE)
    installments: list[Installment]


@strawberry.type(description="What a declined shopper is told (adverse-action notice, 12 CFR 1002.9).")
class AdverseActionNotice:
    action: str
    date: dt.date
    reasons: list[Reason] = strawberry.field(description="The principal reasons, at most four.")
    score: int | None
    text: str


@strawberry.type
class CreditApplication:
    id: strawberry.ID
    status: DecisionStatus = strawberry.field(description="The decision's outcome.")
    application_status: ApplicationStatus
    amount: Money
    merchant_id: str
    order_reference: str
    plan_type: PlanType
    created_at: dt.datetime
    expires_at: dt.datetime | None
    score: int | None = strawberry.field(description="Null when no score was available (REFERRED).")
    risk_grade: str | None
    pd: float | None
    reasons: list[Reason]
    offer: PlanOffer | None
    model_version: str | None
    policy_version: str
    plan_id: strawberry.ID | None
    notice: AdverseActionNotice | None = strawberry.field(
        default=None, description="The adverse-action notice of a decline; null otherwise."
    )
    checkout_id: strawberry.ID | None = strawberry.field(
        default=None, description="The merchant's checkout session this application is for."
    )

    @strawberry.field(description="The decline notice as a document (declined applications); empty otherwise.")
    async def documents(self, info: strawberry.Info) -> list[LazyDocument]:
        from bnpl_gateway.documents import application_documents

        if self.status is not DecisionStatus.DECLINED:
            return []
        return await application_documents(info, str(self.id))

    @strawberry.field(description="The review by a person, once one is opened (REFERRED, or a contested decline).")
    async def review_status(self, info: strawberry.Info[GatewayContext, None]) -> ReviewStatus | None:
        return await fetch_review_status(info.context, str(self.id))


@strawberry.type(description="A page of a list, as AppSync lists: pass nextToken back for the next page.")
class ApplicationConnection:
    items: list[CreditApplication]
    next_token: str | None


@strawberry.input
class QuoteInput:
    amount: MoneyInput
    plan_types: list[PlanType] | None = strawberry.UNSET


@strawberry.type
class PaymentPlan:
    id: strawberry.ID
    application_id: strawberry.ID
    status: PlanStatus
    plan_type: PlanType
    merchant_id: str
    order_reference: str
    principal: Money
    finance_charge: Money
    total_of_payments: Money
    apr: float = strawberry.field(description=NOMINAL_APR)
    apr_basis_points: int = strawberry.field(description="apr in basis points.")
    rate_kind: RateKind
    rate_label: str = strawberry.field(description=RATE_LABEL)
    annual_rate: float = strawberry.field(description=ANNUAL_RATE)
    amount_paid: Money
    amount_outstanding: Money
    installments: list[Installment]
    created_at: dt.datetime
    late_fees: Money | None = None
    refunded: Money | None = strawberry.field(default=None, description="Merchant refunds so far.")
    total_due: Money | None = strawberry.field(default=None, description="totalOfPayments + lateFees - refunds.")
    returned_to_shopper: Money | None = None
    interest_cancelled: Money | None = strawberry.field(
        default=None, description="Interest not earned that was cancelled: early payoff, withdrawal, a partial refund."
    )
    interest_charged: Money | None = strawberry.field(
        default=None, description="financeCharge - interestCancelled: the interest the shopper pays."
    )
    withdrawn_on: dt.date | None = strawberry.field(default=None, description="When the shopper withdrew.")

    @strawberry.field(description="The documents kept with the plan (the accepted pre-contract information).")
    async def documents(self, info: strawberry.Info) -> list[LazyDocument]:
        from bnpl_gateway.documents import plan_documents

        return await plan_documents(info, str(self.id))


@strawberry.type
class Allocation:
    sequence: int
    amount: Money


@strawberry.type
class Payment:
    id: strawberry.ID
    plan_id: strawberry.ID
    amount: Money
    created_at: dt.datetime
    allocations: list[Allocation]
    source: str | None = strawberry.field(
        default=None,
        description="SHOPPER (paid by hand), CONFIRMATION (a first part, at confirmation) or SCHEDULED (charged "
        "to the saved method on its due date); each charged to the shopper's payment method.",
    )
    plan_status: PlanStatus | None = None
    amount_outstanding: Money | None = None
    interest_cancelled: Money | None = strawberry.field(
        default=None, description="What paying the payoff quote cancelled (interest not earned)."
    )


@strawberry.type(description="The customer's credit line; all null before the first approval.")
class CreditLine:
    credit_limit: Money | None
    exposure: Money | None = strawberry.field(description="What approvals hold plus what is owed on plans.")
    available_credit: Money | None
    limit_reasons: list[str] = strawberry.field(
        default_factory=list,
        description="Why the limit is what it is: where it started, how repaying on time raised it, or why it is "
        "frozen.",
    )
    how_to_raise: str | None = strawberry.field(
        default=None, description="What would raise the limit; null when nothing would now."
    )


@strawberry.enum(description="Where a merchant's checkout session is; the merchant reads the same status.")
class CheckoutStatus(Enum):
    OPEN = "OPEN"
    APPROVED = "APPROVED"
    AUTHORIZED = "AUTHORIZED"
    DECLINED = "DECLINED"
    REFERRED = "REFERRED"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"
    CAPTURED = "CAPTURED"
    PARTIALLY_CAPTURED = "PARTIALLY_CAPTURED"
    VOIDED = "VOIDED"
    REFUNDED = "REFUNDED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"


@strawberry.type(description="One line of the merchant's order.")
class CheckoutItem:
    name: str
    quantity: int
    unit_price: Money


@strawberry.type(description="The order a merchant's server created for the shopper to pay later, read with its token.")
class CheckoutSession:
    id: strawberry.ID
    merchant_id: str
    merchant_name: str
    order_reference: str
    amount: Money
    items: list[CheckoutItem]
    plan_types: list[PlanType] = strawberry.field(description="The plans the merchant offers for this order.")
    offers: list[PlanOffer] = strawberry.field(description="The figures of each plan on offer, as quote gives them.")
    status: CheckoutStatus
    expires_at: dt.datetime
    application_id: strawberry.ID | None
    merchant_redirect_url: str | None = strawberry.field(
        description="Null while the shopper is still choosing; then the merchant's signed return (or cancel) URL."
    )
