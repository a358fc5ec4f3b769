"""The Stripe adapter of the PSP port, on Stripe's own Python SDK (async, over httpx).

- Saving a method: a SetupIntent (``usage=off_session``) for a card or a SEPA Direct Debit
  mandate; the checkout page confirms it with Stripe's Payment Element and the client secret.
- Charging: a PaymentIntent created with ``confirm=true, off_session=true``; Stripe's
  idempotency key is the caller's (the installment's), so a retry never charges twice.
- Refunds: against the PaymentIntent, so the money goes back to the method that paid.
- Webhooks: verified with Stripe's library (``Stripe-Signature``, HMAC-SHA256, timestamp
  tolerance) before anything in them is read.

Stripe's payloads are read as plain dicts at this edge and turned into the port's records.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import stripe
from bnpl_common.money import CURRENCY_EXPONENTS, Money
from stripe.params import PaymentIntentCreateParams

from bnpl_credit.psp.errors import (
    PspIdempotencyConflict,
    PspObjectNotFound,
    PspRequestRejected,
    PspUnavailable,
    WebhookSignatureInvalid,
)
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

# Stripe's default; older signatures are refused (replays).
WEBHOOK_TOLERANCE_SECONDS = 300

# Stripe's off-session "this payment needs the shopper" answer: the bank asks for 3-D Secure.
AUTHENTICATION_REQUIRED = "authentication_required"

_SETUP_STATUS = {
    "requires_payment_method": SetupStatus.PENDING,
    "requires_confirmation": SetupStatus.PENDING,
    "requires_action": SetupStatus.REQUIRES_ACTION,
    "processing": SetupStatus.PROCESSING,
    "succeeded": SetupStatus.SUCCEEDED,
    "canceled": SetupStatus.CANCELED,
}

_REFUND_STATUS = {
    "pending": RefundStatus.PENDING,
    "requires_action": RefundStatus.PENDING,
    "succeeded": RefundStatus.SUCCEEDED,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.CANCELED,
}

_EVENT_TYPES = {
    "payment_intent.succeeded": PspEventType.CHARGE_SUCCEEDED,
    "payment_intent.payment_failed": PspEventType.CHARGE_FAILED,
    "payment_intent.processing": PspEventType.CHARGE_PROCESSING,
    "payment_intent.requires_action": PspEventType.CHARGE_REQUIRES_ACTION,
    "refund.created": PspEventType.REFUND_UPDATED,
    "refund.updated": PspEventType.REFUND_UPDATED,
    "refund.failed": PspEventType.REFUND_UPDATED,
    "setup_intent.succeeded": PspEventType.SETUP_SUCCEEDED,
    "setup_intent.setup_failed": PspEventType.SETUP_FAILED,
}
_CHARGE_EVENTS = frozenset(
    {
        PspEventType.CHARGE_SUCCEEDED,
        PspEventType.CHARGE_FAILED,
        PspEventType.CHARGE_PROCESSING,
        PspEventType.CHARGE_REQUIRES_ACTION,
    }
)


class StripePsp:
    """:class:`~bnpl_credit.psp.port.PaymentServiceProvider` on Stripe's API.

    ``api_base`` points the SDK elsewhere than api.stripe.com: the sandbox PSP (which speaks
    the same subset of the API) or, in tests, a server replaying recorded Stripe responses.
    Create one per process (in the lifespan) and :meth:`aclose` it on shutdown.
    """

    def __init__(
        self,
        *,
        api_key: str,
        webhook_secret: str,
        api_base: str | None = None,
        timeout_seconds: float = 10.0,
        max_network_retries: int = 2,
        webhook_tolerance_seconds: int = WEBHOOK_TOLERANCE_SECONDS,
    ) -> None:
        self._http = stripe.HTTPXClient(timeout=timeout_seconds)
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            http_client=self._http,
            # the SDK retries connection errors and 409/429/5xx with the same idempotency key
            max_network_retries=max_network_retries,
        )
        self._webhook_secret = webhook_secret
        self._tolerance = webhook_tolerance_seconds
        # The SDK logs every request at INFO and the bodies at DEBUG, client secrets included: never let it.
        logging.getLogger("stripe").setLevel(logging.WARNING)

    async def aclose(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]  # untyped in the SDK

    async def create_customer(self, *, reference: str, idempotency_key: str) -> PspCustomer:
        customer = await _call(
            self._client.v1.customers.create_async(
                params={"metadata": {"bnpl_customer_id": reference}},
                options={"idempotency_key": idempotency_key},
            )
        )
        return PspCustomer(id=str(customer["id"]))

    async def start_setup(
        self, *, customer_id: str, method: PaymentMethodType, return_url: str, idempotency_key: str
    ) -> SetupSession:
        intent = await _call(
            self._client.v1.setup_intents.create_async(
                params={
                    "customer": customer_id,
                    # API version 2026-10-28 names it so; the response keeps ``payment_method_types``
                    "allowed_payment_method_types": [method.value],
                    "usage": "off_session",
                },
                options={"idempotency_key": idempotency_key},
            )
        )
        setup_id = str(intent["id"])
        secret = str(intent["client_secret"])
        return SetupSession(
            setup_id=setup_id,
            client_secret=secret,
            method=method,
            page_url=self._setup_page_url(setup_id, secret, return_url),
        )

    def _setup_page_url(self, setup_id: str, client_secret: str, return_url: str) -> str | None:
        # Stripe's page is our checkout page with the Payment Element: nothing to send the shopper to.
        return None

    async def get_setup(self, setup_id: str) -> SetupState:
        return setup_state(await _call(self._client.v1.setup_intents.retrieve_async(setup_id)))

    async def get_payment_method(self, payment_method_id: str) -> PaymentMethod:
        return payment_method(await _call(self._client.v1.payment_methods.retrieve_async(payment_method_id)))

    async def charge(
        self,
        *,
        customer_id: str,
        payment_method_id: str,
        amount: Money,
        idempotency_key: str,
        description: str,
    ) -> ChargeResult:
        params: PaymentIntentCreateParams = {
            "amount": amount.amount,
            "currency": amount.currency.lower(),
            "customer": customer_id,
            "payment_method": payment_method_id,
            "confirm": True,
            "off_session": True,
            "description": description,
        }
        try:
            intent = await _call(
                self._client.v1.payment_intents.create_async(
                    params=params, options={"idempotency_key": idempotency_key}
                ),
                pass_card_errors=True,
            )
        except stripe.CardError as exc:
            # A decline: Stripe answers 402 with the PaymentIntent it left in the error body.
            declined = _error_body(exc).get("payment_intent")
            if not isinstance(declined, dict):
                raise PspUnavailable("the payment provider declined without a payment to refer to") from exc
            intent = declined
        return charge_result(intent)

    async def get_charge(self, charge_id: str) -> ChargeResult:
        return charge_result(await _call(self._client.v1.payment_intents.retrieve_async(charge_id)))

    async def refund(self, *, charge_id: str, amount: Money, idempotency_key: str) -> Refund:
        refund = await _call(
            self._client.v1.refunds.create_async(
                params={"payment_intent": charge_id, "amount": amount.amount},
                options={"idempotency_key": idempotency_key},
            )
        )
        return refund_record(refund, charge_id=charge_id)

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> PspEvent:
        signature = next((v for k, v in headers.items() if k.lower() == "stripe-signature"), None)
        try:
            stripe.WebhookSignature.verify_header(payload, signature, self._webhook_secret, self._tolerance)
        except stripe.SignatureVerificationError as exc:
            # Stripe's messages name what failed (no header, no match, too old); none holds a secret
            raise WebhookSignatureInvalid(f"webhook signature refused: {exc.user_message or exc}") from exc
        try:
            body = json.loads(payload)
        except ValueError as exc:
            raise WebhookSignatureInvalid("webhook body is not JSON") from exc
        return event_record(body)


async def _call(awaitable: Any, *, pass_card_errors: bool = False) -> dict[str, Any]:
    """Await one SDK call and translate its failures into the port's errors."""
    try:
        result = await awaitable
    except stripe.CardError as exc:
        if pass_card_errors:
            raise
        raise PspRequestRejected(_message(exc), field=exc.param) from exc
    except stripe.IdempotencyError as exc:
        raise PspIdempotencyConflict(
            "this idempotency key was already used with different parameters", field="idempotencyKey"
        ) from exc
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404 or exc.code == "resource_missing":
            raise PspObjectNotFound(_message(exc), field=exc.param) from exc
        raise PspRequestRejected(_message(exc), field=exc.param) from exc
    except stripe.StripeError as exc:
        # connection errors, 5xx, 429 after the SDK's retries, and refused API keys
        raise PspUnavailable(f"payment provider unavailable: {type(exc).__name__}") from exc
    return _plain(result)


def _plain(obj: Any) -> dict[str, Any]:
    if isinstance(obj, stripe.StripeObject):
        return obj.to_dict(recursive=True)
    if isinstance(obj, dict):
        return obj
    raise PspUnavailable("payment provider answered with an unexpected body")


def _error_body(exc: stripe.StripeError) -> dict[str, Any]:
    body = exc.json_body if isinstance(exc.json_body, dict) else {}
    error = body.get("error")
    return error if isinstance(error, dict) else {}


def _message(exc: stripe.StripeError) -> str:
    message = _error_body(exc).get("message")
    return f"payment provider refused the request: {message}" if message else "payment provider refused the request"


def _money(amount: Any, currency: Any) -> Money:
    code = str(currency).upper()
    if code not in CURRENCY_EXPONENTS or not isinstance(amount, int):
        raise PspUnavailable(f"payment provider answered with an amount in {code!r} we cannot read")
    return Money(amount=amount, currency=code)


def _id(value: Any) -> str | None:
    """An expandable field: an id, an expanded object, or nothing."""
    if isinstance(value, dict):
        return str(value["id"]) if "id" in value else None
    return str(value) if value else None


def setup_state(intent: Mapping[str, Any]) -> SetupState:
    error = intent.get("last_setup_error") or {}
    status = _SETUP_STATUS.get(str(intent.get("status")), SetupStatus.PENDING)
    if status is SetupStatus.PENDING and error:
        status = SetupStatus.FAILED
    return SetupState(
        setup_id=str(intent["id"]),
        customer_id=_id(intent.get("customer")),
        status=status,
        payment_method_id=_id(intent.get("payment_method")) if status is SetupStatus.SUCCEEDED else None,
        error_code=(error.get("decline_code") or error.get("code")) if error else None,
    )


def payment_method(pm: Mapping[str, Any]) -> PaymentMethod:
    kind = PaymentMethodType(str(pm["type"]))
    details = pm.get(kind.value) or {}
    if kind is PaymentMethodType.CARD:
        brand, exp_month, exp_year = str(details.get("brand")), details.get("exp_month"), details.get("exp_year")
    else:
        brand, exp_month, exp_year = kind.value, None, None
    customer = _id(pm.get("customer"))
    return PaymentMethod(
        id=str(pm["id"]),
        customer_id=customer,
        type=kind,
        brand=brand,
        last4=str(details.get("last4", "")),
        exp_month=int(exp_month) if exp_month is not None else None,
        exp_year=int(exp_year) if exp_year is not None else None,
        status=PaymentMethodStatus.ATTACHED if customer else PaymentMethodStatus.DETACHED,
    )


def charge_result(intent: Mapping[str, Any]) -> ChargeResult:
    amount = _money(intent.get("amount"), intent.get("currency"))
    status = str(intent.get("status"))
    error = intent.get("last_payment_error") or {}
    code = (error.get("decline_code") or error.get("code")) if error else None
    message = error.get("message") if error else None
    if status == "succeeded":
        result = ChargeStatus.SUCCEEDED
    elif status == "processing":
        result = ChargeStatus.PROCESSING
    elif status == "requires_action" or error.get("code") == AUTHENTICATION_REQUIRED:
        result = ChargeStatus.REQUIRES_ACTION
        code = code or AUTHENTICATION_REQUIRED
    elif status in ("requires_payment_method", "canceled"):
        result = ChargeStatus.FAILED
        code = code or status
    else:  # requires_confirmation / requires_capture: not ours to finish, not a success either
        result = ChargeStatus.PROCESSING
    return ChargeResult(
        charge_id=str(intent["id"]),
        status=result,
        amount=amount,
        decline_code=None if result is ChargeStatus.SUCCEEDED else code,
        message=None if result is ChargeStatus.SUCCEEDED else message,
    )


def refund_record(refund: Mapping[str, Any], *, charge_id: str | None = None) -> Refund:
    return Refund(
        id=str(refund["id"]),
        charge_id=charge_id or _id(refund.get("payment_intent")) or str(refund.get("charge")),
        amount=_money(refund.get("amount"), refund.get("currency")),
        status=_REFUND_STATUS.get(str(refund.get("status")), RefundStatus.PENDING),
        failure_reason=refund.get("failure_reason"),
    )


def event_record(body: Mapping[str, Any]) -> PspEvent:
    if body.get("object") != "event" or not isinstance(body.get("data"), dict):
        raise WebhookSignatureInvalid("webhook body is not a Stripe event")
    psp_type = str(body.get("type"))
    kind = _EVENT_TYPES.get(psp_type, PspEventType.OTHER)
    obj = body["data"].get("object") or {}
    created = datetime.fromtimestamp(int(body.get("created") or time.time()), UTC)
    event_id = str(body["id"])
    charge = refund = setup = None
    if kind in _CHARGE_EVENTS:
        charge = charge_result(obj)
    elif kind is PspEventType.REFUND_UPDATED:
        refund = refund_record(obj)
    elif kind in (PspEventType.SETUP_SUCCEEDED, PspEventType.SETUP_FAILED):
        setup = setup_state(obj)
    return PspEvent(
        id=event_id, type=kind, psp_type=psp_type, created=created, charge=charge, refund=refund, setup=setup
    )
