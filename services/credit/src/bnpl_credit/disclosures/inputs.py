"""What a document discloses: typed, frozen, checked when built.

Only what the documents legally need goes in. The shopper's name may appear (the pre-contract
information is addressed to the consumer, and a US adverse-action notice is a notice *to the
applicant*); no address, telephone number, e-mail or date of birth does: none of the forms
requires the consumer's contact details in the body of the document, the platform delivers it
to the signed-in shopper itself, and a stored document outlives the profile it came from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from bnpl_credit.markets.catalog import DisclosedRate, Market, Product, ProductName, disclosed_rate

MAX_REASONS = 4  # Regulation B comment 9(b)(2)-1: more than four principal reasons rarely help


class DocumentKind(StrEnum):
    PRE_CONTRACT = "pre-contract"
    DECLINE_NOTICE = "decline-notice"


@dataclass(frozen=True, slots=True)
class Payment:
    """One installment of the schedule: ``amount`` minor units due on ``due``."""

    due: date
    amount: int


def _check_text(name: str, value: str, *, limit: int = 200) -> None:
    if not value.strip():
        raise ValueError(f"{name} must not be blank")
    if len(value) > limit:
        raise ValueError(f"{name} is longer than {limit} characters")


def _check_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


@dataclass(frozen=True, slots=True)
class OfferDisclosure:
    """One offer as the shopper will confirm it: the figures of the pre-contract document.

    The total payable and the finance charge are derived from the schedule, so the document
    can never show figures that disagree with it; the late fee, withdrawal period and
    early-settlement rule are the market's (``market``), the version the offer is made under.
    """

    market: Market
    product: ProductName
    reference: str  # the application the offer belongs to
    merchant_name: str
    shopper_name: str | None
    issued_at: datetime  # also the PDF's creation date, so one offer renders to one hash
    valid_until: datetime  # how long the creditor is bound by these terms (the offer's hold)
    start: date  # the day the credit is drawn: the merchant is paid
    amount_financed: int
    borrowing_rate_basis_points: int  # the fixed nominal (borrowing) rate a year
    installments: tuple[Payment, ...]
    rate: DisclosedRate
    # a checkout session's plan starts at the merchant's first capture (the order ships): the
    # dates shown are those of an order shipped on ``start``, and the document says so
    starts_at_shipment: bool = False

    def __post_init__(self) -> None:
        _check_text("reference", self.reference, limit=100)
        _check_text("merchant_name", self.merchant_name)
        if self.shopper_name is not None:
            _check_text("shopper_name", self.shopper_name)
        _check_aware("issued_at", self.issued_at)
        _check_aware("valid_until", self.valid_until)
        if self.valid_until <= self.issued_at:
            raise ValueError("valid_until must be after issued_at")
        self.market.product(self.product)  # KeyError: the market does not offer it
        if self.amount_financed <= 0:
            raise ValueError("amount_financed must be positive")
        if self.borrowing_rate_basis_points < 0:
            raise ValueError("borrowing_rate_basis_points must not be negative")
        if not self.installments:
            raise ValueError("an offer needs at least one installment")
        if any(p.amount <= 0 for p in self.installments):
            raise ValueError("every installment must be positive")
        dues = [p.due for p in self.installments]
        if dues != sorted(dues) or dues[0] < self.start:
            raise ValueError("installments must be in date order, none before the start")
        if self.total_payable < self.amount_financed:
            raise ValueError("the installments repay less than the amount financed")
        if (self.rate.kind, self.rate.label) != (self.market.rate.kind, self.market.rate.label):
            raise ValueError(f"the rate must be the {self.market.market} market's {self.market.rate.label}")

    @property
    def currency(self) -> str:
        return self.market.currency

    @property
    def product_terms(self) -> Product:
        return self.market.product(self.product)

    @property
    def total_payable(self) -> int:
        return sum(p.amount for p in self.installments)

    @property
    def finance_charge(self) -> int:
        return self.total_payable - self.amount_financed

    @property
    def down_payment(self) -> int:
        """What is due on the day of the purchase (pay in 4's first installment).

        Regulation Z treats it as a down payment (1026.18(b)): the US box discloses the credit
        after it, the amount financed and the total of payments both without it."""
        return sum(p.amount for p in self.installments if p.due == self.start)

    @property
    def late_fees(self) -> tuple[int, ...]:
        """The fee each installment would bear if late, under the market's cap."""
        return tuple(self.market.late_fees.fee(p.amount) for p in self.installments)


def disclose_offer(
    market: Market,
    product: ProductName,
    *,
    reference: str,
    merchant_name: str,
    shopper_name: str | None,
    issued_at: datetime,
    valid_until: datetime,
    start: date,
    amount_financed: int,
    borrowing_rate_basis_points: int,
    installments: Sequence[Payment],
    starts_at_shipment: bool = False,
) -> OfferDisclosure:
    """An :class:`OfferDisclosure` whose annual rate is computed the way ``market`` requires."""
    rate = disclosed_rate(
        market,
        market.product(product),
        start=start,
        amount_financed=amount_financed,
        installments=[(p.due, p.amount) for p in installments],
    )
    return OfferDisclosure(
        market=market,
        product=product,
        reference=reference,
        merchant_name=merchant_name,
        shopper_name=shopper_name,
        issued_at=issued_at,
        valid_until=valid_until,
        start=start,
        amount_financed=amount_financed,
        borrowing_rate_basis_points=borrowing_rate_basis_points,
        installments=tuple(installments),
        rate=rate,
        starts_at_shipment=starts_at_shipment,
    )


@dataclass(frozen=True, slots=True)
class Reason:
    """A principal reason for a decline: the stable code and the sentence the shopper reads."""

    code: str
    sentence: str

    def __post_init__(self) -> None:
        _check_text("reason code", self.code, limit=64)
        _check_text("reason sentence", self.sentence, limit=600)


@dataclass(frozen=True, slots=True)
class DeclineDisclosure:
    """A declined application: what the decline notice tells the applicant."""

    market: Market
    application_id: str
    decided_at: datetime  # also the PDF's creation date
    reasons: tuple[Reason, ...]
    merchant_name: str
    product: ProductName
    amount: int
    shopper_name: str | None
    # The decision was reached by automated processing (the scorecard and the policy): the EU
    # and UK notices must then say so and offer a person's review (GDPR Art. 22(3)).
    automated: bool = True
    # A credit database consulted for this decision, named with its address (Directive
    # 2023/2225 Art. 19, CCA 1974 s. 157); None: the platform consulted none.
    database_consulted: str | None = None

    def __post_init__(self) -> None:
        _check_text("application_id", self.application_id, limit=100)
        _check_text("merchant_name", self.merchant_name)
        if self.shopper_name is not None:
            _check_text("shopper_name", self.shopper_name)
        if self.database_consulted is not None:
            _check_text("database_consulted", self.database_consulted, limit=300)
        _check_aware("decided_at", self.decided_at)
        self.market.product(self.product)
        if self.amount <= 0:
            raise ValueError("amount must be positive")
        if not 1 <= len(self.reasons) <= MAX_REASONS:
            raise ValueError(f"a decline states between 1 and {MAX_REASONS} principal reasons")

    @property
    def currency(self) -> str:
        return self.market.currency
