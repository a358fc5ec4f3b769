"""What the credit service keeps of a shopper's payment method, and of collecting a plan.

Only the PSP's ids, the brand, the last four digits and the expiry are ever stored: the card is
typed into the PSP's own page, so no card number reaches this service.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from bnpl_common.errors import AppError, PreconditionFailed


@dataclass(frozen=True, slots=True)
class SavedMethod:
    """The method installments are charged to."""

    payment_method_id: str
    type: str  # ``card`` or ``sepa_debit``
    brand: str
    last4: str
    exp_month: int | None
    exp_year: int | None
    saved_at: datetime


@dataclass(frozen=True, slots=True)
class PaymentProfile:
    """A customer's PSP customer and the method on file (None until a setup succeeded)."""

    customer_id: str
    psp_customer_id: str
    method: SavedMethod | None = None
    setups: tuple[str, ...] = ()  # setups started for this customer (only these may be completed)


@dataclass(frozen=True, slots=True)
class InstallmentCollection:
    """The scheduler's record of one installment: attempts, the next one, what was said."""

    sequence: int
    attempts: int = 0
    next_attempt_on: date | None = None  # None: on its due date
    last_decline: str | None = None
    reminded_for: tuple[str, ...] = ()  # the days (ISO) a reminder SMS was sent for


@dataclass(frozen=True, slots=True)
class PlanCollection:
    """Collecting one plan: one record per installment that was attempted or reminded."""

    plan_id: str
    customer_id: str
    installments: tuple[InstallmentCollection, ...] = field(default_factory=tuple)
    version: int = 0

    def of(self, sequence: int) -> InstallmentCollection:
        for inst in self.installments:
            if inst.sequence == sequence:
                return inst
        return InstallmentCollection(sequence)

    def with_installment(self, record: InstallmentCollection) -> PlanCollection:
        others = tuple(i for i in self.installments if i.sequence != record.sequence)
        return PlanCollection(
            self.plan_id,
            self.customer_id,
            tuple(sorted((*others, record), key=lambda i: i.sequence)),
            self.version,
        )


@dataclass(frozen=True, slots=True)
class PendingRefund:
    """Part of a refund the PSP did not take (unavailable): sent again, with the same key, by the
    scheduler until it is."""

    key: str  # the PSP idempotency key: ``refund-<refundId>-<chargeId>``
    customer_id: str
    plan_id: str
    refund_id: str
    payment_id: str
    charge_id: str
    amount: int
    currency: str


def installment_key(plan_id: str, sequence: int) -> str:
    """The PSP idempotency key of an installment's charge: one charge per installment, ever
    (a retry after a decline adds the attempt number, so it is a new charge)."""
    return f"installment-{plan_id}-{sequence}"


class PaymentMethodRequired(PreconditionFailed):
    """No accepted payment method on file."""

    error_type = "PaymentMethodRequired"


class PaymentDeclined(AppError):
    """The PSP declined the charge (``info.declineCode`` says why)."""

    status_code = 402
    error_type = "PaymentDeclined"


class SetupNotFound(AppError):
    status_code = 404
    error_type = "PaymentMethodSetupNotFound"


class SetupNotCompleted(PreconditionFailed):
    """The setup did not succeed (yet): the card was refused, or the shopper did not finish."""

    error_type = "PaymentMethodSetupNotCompleted"
