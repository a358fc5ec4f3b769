"""The payment-service-provider port: what the credit service asks of Stripe or the sandbox."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from bnpl_common.money import Money

from bnpl_credit.psp.records import (
    ChargeResult,
    PaymentMethod,
    PaymentMethodType,
    PspCustomer,
    PspEvent,
    Refund,
    SetupSession,
    SetupState,
)


class PaymentServiceProvider(Protocol):
    """Save a shopper's payment method, charge it off-session, refund, and read webhooks.

    Every call that creates something takes an idempotency key, passed to the PSP unchanged: a
    retry with the same key and the same arguments returns the first result and never charges
    twice; the same key with other arguments raises ``PspIdempotencyConflict``.
    """

    async def create_customer(self, *, reference: str, idempotency_key: str) -> PspCustomer:
        """The PSP's customer for our customer ``reference`` (an opaque id: no personal data)."""
        ...

    async def start_setup(
        self, *, customer_id: str, method: PaymentMethodType, return_url: str, idempotency_key: str
    ) -> SetupSession:
        """Begin saving a payment method for off-session charges; the PSP's page collects it."""
        ...

    async def get_setup(self, setup_id: str) -> SetupState:
        """Where a setup stands and, once it succeeded, the payment method it saved."""
        ...

    async def get_payment_method(self, payment_method_id: str) -> PaymentMethod:
        """Type, brand, last four digits and expiry of a saved method."""
        ...

    async def charge(
        self,
        *,
        customer_id: str,
        payment_method_id: str,
        amount: Money,
        idempotency_key: str,
        description: str,
    ) -> ChargeResult:
        """Charge a saved method off-session. A decline is a FAILED result, not an exception."""
        ...

    async def get_charge(self, charge_id: str) -> ChargeResult:
        """The current state of a charge (after PROCESSING, or when a retry's outcome is unknown)."""
        ...

    async def refund(self, *, charge_id: str, amount: Money, idempotency_key: str) -> Refund:
        """Refund ``amount`` of a charge to the method that paid it."""
        ...

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> PspEvent:
        """Verify a webhook's signature and read it; a bad signature raises ``WebhookSignatureInvalid``."""
        ...

    async def aclose(self) -> None:
        """Close the HTTP client (in the app's lifespan)."""
        ...
