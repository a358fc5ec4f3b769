"""What the payment-service-provider port speaks: typed records in our domain's terms.

Amounts are :class:`~bnpl_common.money.Money` (integer minor units). Nothing here holds a card
number: the card is typed into the PSP's own page, and we only ever see the PSP's ids, the
brand, the last four digits and the expiry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bnpl_common.money import Money


class PaymentMethodType(StrEnum):
    """How the shopper pays the installments (the PSP's own type names)."""

    CARD = "card"
    SEPA_DEBIT = "sepa_debit"


class SetupStatus(StrEnum):
    """Where saving a payment method stands."""

    PENDING = "PENDING"  # waiting for the shopper to enter a method on the PSP's page
    REQUIRES_ACTION = "REQUIRES_ACTION"  # the shopper must authenticate (3-D Secure)
    PROCESSING = "PROCESSING"
    SUCCEEDED = "SUCCEEDED"  # ``payment_method_id`` can be charged off-session
    FAILED = "FAILED"  # the last attempt failed (``error_code``); the shopper may try again
    CANCELED = "CANCELED"


class PaymentMethodStatus(StrEnum):
    ATTACHED = "ATTACHED"  # saved on the customer: can be charged
    DETACHED = "DETACHED"


class ChargeStatus(StrEnum):
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"  # declined: ``decline_code`` says why; the same method may be retried later
    REQUIRES_ACTION = "REQUIRES_ACTION"  # the bank wants the shopper to authenticate this payment
    PROCESSING = "PROCESSING"  # asynchronous (SEPA Direct Debit): a webhook tells the outcome


class RefundStatus(StrEnum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"


class PspEventType(StrEnum):
    """The asynchronous results we act on; anything else is ``OTHER``."""

    CHARGE_SUCCEEDED = "CHARGE_SUCCEEDED"
    CHARGE_FAILED = "CHARGE_FAILED"
    CHARGE_PROCESSING = "CHARGE_PROCESSING"
    CHARGE_REQUIRES_ACTION = "CHARGE_REQUIRES_ACTION"
    REFUND_UPDATED = "REFUND_UPDATED"
    SETUP_SUCCEEDED = "SETUP_SUCCEEDED"
    SETUP_FAILED = "SETUP_FAILED"
    OTHER = "OTHER"


@dataclass(frozen=True, slots=True)
class PspCustomer:
    id: str


@dataclass(frozen=True, slots=True)
class SetupSession:
    """What the checkout page needs to collect a payment method on the PSP's origin.

    Stripe: the page mounts the Payment Element with ``client_secret`` (``page_url`` is None).
    Sandbox: the page sends the shopper to ``page_url``, the sandbox's own card-entry page.
    """

    setup_id: str
    client_secret: str
    method: PaymentMethodType
    page_url: str | None


@dataclass(frozen=True, slots=True)
class SetupState:
    setup_id: str
    customer_id: str | None
    status: SetupStatus
    payment_method_id: str | None
    error_code: str | None = None


@dataclass(frozen=True, slots=True)
class PaymentMethod:
    """A saved payment method, as much as we may keep of it."""

    id: str
    customer_id: str | None
    type: PaymentMethodType
    brand: str  # card network (``visa``...), or ``sepa_debit``
    last4: str
    exp_month: int | None  # None for SEPA Direct Debit
    exp_year: int | None
    status: PaymentMethodStatus


@dataclass(frozen=True, slots=True)
class ChargeResult:
    """The outcome of one charge. ``charge_id`` is the PSP's payment id (refunds name it)."""

    charge_id: str
    status: ChargeStatus
    amount: Money
    decline_code: str | None = None
    message: str | None = None  # the PSP's text for the shopper; no personal data


@dataclass(frozen=True, slots=True)
class Refund:
    id: str
    charge_id: str
    amount: Money
    status: RefundStatus
    failure_reason: str | None = None


@dataclass(frozen=True, slots=True)
class PspEvent:
    """A verified webhook. Exactly one of ``charge``, ``refund``, ``setup`` is set, unless OTHER."""

    id: str
    type: PspEventType
    psp_type: str  # the PSP's own event name, e.g. ``payment_intent.succeeded``
    created: datetime
    charge: ChargeResult | None = None
    refund: Refund | None = None
    setup: SetupState | None = None
