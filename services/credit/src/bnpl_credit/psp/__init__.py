"""The payment-service-provider edge: the port, its records and errors, and two adapters
(Stripe, and the local sandbox PSP that speaks the same API)."""

from bnpl_credit.psp.errors import (
    PspIdempotencyConflict,
    PspObjectNotFound,
    PspRequestRejected,
    PspUnavailable,
    WebhookSignatureInvalid,
)
from bnpl_credit.psp.port import PaymentServiceProvider
from bnpl_credit.psp.records import (
    ChargeResult,
    ChargeStatus,
    PaymentMethod,
    PaymentMethodStatus,
    PaymentMethodType,
    PspCustomer,
    PspEvent,
    PspEventType,
    Refund,
    RefundStatus,
    SetupSession,
    SetupState,
    SetupStatus,
)
from bnpl_credit.psp.sandbox_adapter import SandboxPsp
from bnpl_credit.psp.settings import PspSettings, create_psp
from bnpl_credit.psp.stripe_adapter import StripePsp

__all__ = [
    "ChargeResult",
    "ChargeStatus",
    "PaymentMethod",
    "PaymentMethodStatus",
    "PaymentMethodType",
    "PaymentServiceProvider",
    "PspCustomer",
    "PspEvent",
    "PspEventType",
    "PspIdempotencyConflict",
    "PspObjectNotFound",
    "PspRequestRejected",
    "PspSettings",
    "PspUnavailable",
    "Refund",
    "RefundStatus",
    "SandboxPsp",
    "SetupSession",
    "SetupState",
    "SetupStatus",
    "StripePsp",
    "WebhookSignatureInvalid",
    "create_psp",
]
