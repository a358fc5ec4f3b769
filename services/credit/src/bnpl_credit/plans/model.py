"""Plan records that are not the plan itself: statuses, payments and refunds (written once,
next to the plan change that made them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class PlanStatus(StrEnum):
    AUTHORIZED = "AUTHORIZED"  # a checkout's plan before the merchant's first capture: no dates run yet
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    REFUNDED = "REFUNDED"


class InstallmentStatus(StrEnum):
    DUE = "DUE"
    PAID = "PAID"
    LATE = "LATE"
    REFUNDED = "REFUNDED"


class PaymentSource(StrEnum):
    SHOPPER = "SHOPPER"
    CONFIRMATION = "CONFIRMATION"  # pay in 4: the first part, charged to the saved method at confirmation
    SCHEDULED = "SCHEDULED"  # charged to the saved method on its due date by the scheduler


@dataclass(frozen=True, slots=True)
class Allocation:
    """An amount put on (a payment) or taken off (a refund) one installment."""

    sequence: int
    amount: int


@dataclass(frozen=True, slots=True)
class Payment:
    id: str
    customer_id: str
    plan_id: str
    amount: int
    currency: str
    source: PaymentSource
    created_at: datetime
    allocations: tuple[Allocation, ...]
    psp_charge_id: str | None = None  # the PSP's payment it was charged as (refunds go back to it)


@dataclass(frozen=True, slots=True)
class Refund:
    id: str
    customer_id: str
    plan_id: str
    merchant_id: str
    order_reference: str
    amount: int
    currency: str
    reason: str
    full: bool  # the refunds reached the principal: the plan is REFUNDED
    credits: tuple[Allocation, ...]  # taken off installments, last first
    returned_to_shopper: int
    plan_status: PlanStatus  # as the refund left it
    amount_outstanding: int  # as the refund left it
    created_at: datetime
    by: str  # the merchant caller's access key id or role


@dataclass(frozen=True, slots=True)
class PlanDocument:
    """A document kept with a plan (the pre-contract information the shopper accepted): where
    each form is stored and its SHA-256, so the plan itself records what was agreed."""

    kind: str  # "pre-contract"
    title: str
    pdf_key: str
    pdf_sha256: str
    html_key: str
    html_sha256: str
