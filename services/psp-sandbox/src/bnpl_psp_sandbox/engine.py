"""What the sandbox does, as functions of one SQLite connection (each call runs inside one
write transaction, so a request's objects, events and idempotency record commit together).

Objects and errors have Stripe's shapes and semantics for the subset the credit service uses:
customers, SetupIntents (card, SEPA Direct Debit), PaymentMethods, off-session PaymentIntents,
refunds and events. A card decline is HTTP 402 with the PaymentIntent in the error, as Stripe does.
"""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from bnpl_psp_sandbox import store
from bnpl_psp_sandbox.cards import CARDS_BY_PROFILE, IBANS_BY_PROFILE, TEST_CARDS, TEST_IBANS, iban_valid, luhn_valid

Result = tuple[int, dict[str, Any]]

METHOD_TYPES = ("card", "sepa_debit")
# Stripe's smallest charge per currency, in minor units (0.50 in most; a charge below is refused).
MINIMUM_CHARGE = {"gbp": 30, "jpy": 50}
CURRENCIES = ("eur", "usd", "gbp", "chf", "sek", "nok", "dkk", "pln", "czk", "cad", "aud", "nzd", "jpy")


class ApiError(Exception):
    """A Stripe-shaped error: ``{"error": {"type", "message", "code", "param", ...}}``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"type": type_, "message": message}
        if code:
            self.body["code"] = code
        if param:
            self.body["param"] = param


def missing(kind: str, object_id: str, param: str | None = None) -> ApiError:
    """Stripe's answer for an unknown id: 404 when it is the path's object, 400 when a parameter names it."""
    status = 404 if param in (None, "id") else 400
    return ApiError(status, f"No such {kind}: '{object_id}'", code="resource_missing", param=param)


@dataclass(frozen=True, slots=True)
class Context:
    idempotency_key: str | None
    fingerprint_key: bytes  # keys the card/IBAN fingerprints (never the number itself)
    sepa_settle_seconds: float


def _now() -> int:
    return int(time.time())


def _str(params: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise ApiError(400, f"Missing required param: {name}.", code="parameter_missing", param=name)
        return None
    if not isinstance(value, str):
        raise ApiError(400, f"Invalid string: {name}", code="parameter_invalid_string", param=name)
    return value


def _bool(params: dict[str, Any], name: str) -> bool:
    value = _str(params, name)
    if value in (None, "false"):
        return False
    if value == "true":
        return True
    raise ApiError(400, f"Invalid boolean: {value}", code="parameter_invalid_boolean", param=name)


def _metadata(params: dict[str, Any]) -> dict[str, str]:
    value = params.get("metadata") or {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ApiError(400, "Invalid metadata", param="metadata")
    return value


def _customer(conn: sqlite3.Connection, customer_id: str | None) -> str | None:
    if customer_id and store.get(conn, customer_id, "customer") is None:
        raise missing("customer", customer_id, "customer")
    return customer_id


def retrieve(conn: sqlite3.Connection, kind: str, object_id: str) -> Result:
    found = store.get(conn, object_id, kind)
    if found is None:
        raise missing(kind.replace("_", " "), object_id, "id")
    return 200, found.body


def create_customer(conn: sqlite3.Connection, params: dict[str, Any], ctx: Context) -> Result:
    customer = {
        "id": store.new_id("cus", 14),
        "object": "customer",
        "created": _now(),
        "description": _str(params, "description"),
        "email": _str(params, "email"),
        "name": _str(params, "name"),
        "invoice_settings": {"default_payment_method": None},
        "livemode": False,
        "metadata": _metadata(params),
    }
    store.put(conn, customer)
    store.add_event(conn, "customer.created", customer, idempotency_key=ctx.idempotency_key)
    return 200, customer


def create_setup_intent(conn: sqlite3.Connection, params: dict[str, Any], ctx: Context) -> Result:
    customer = _customer(conn, _str(params, "customer"))
    # ``allowed_payment_method_types`` since API version 2026-10-28; older clients send the old name
    name = "allowed_payment_method_types" if "allowed_payment_method_types" in params else "payment_method_types"
    types = params.get(name, ["card"])
    if not isinstance(types, list) or not types or any(t not in METHOD_TYPES for t in types):
        raise ApiError(400, f"{name} must be a list of: {', '.join(METHOD_TYPES)}", param=name)
    usage = _str(params, "usage") or "off_session"
    if usage not in ("off_session", "on_session"):
        raise ApiError(400, "Invalid usage: must be one of off_session or on_session", param="usage")
    intent_id = store.new_id("seti")
    intent = {
        "id": intent_id,
        "object": "setup_intent",
        "client_secret": f"{intent_id}_secret_{store.new_id('x', 32)[2:]}",
        "created": _now(),
        "customer": customer,
        "description": _str(params, "description"),
        "last_setup_error": None,
        "livemode": False,
        "mandate": None,
        "metadata": _metadata(params),
        "next_action": None,
        "payment_method": None,
        "payment_method_types": types,
        "status": "requires_payment_method",
        "usage": usage,
    }
    store.put(conn, intent)
    store.add_event(conn, "setup_intent.created", intent, idempotency_key=ctx.idempotency_key)
    return 200, intent


# --- the card-entry page (authorised by the SetupIntent's client secret, as Stripe.js is) ---


class PageError(Exception):
    """Something the shopper can fix on the page: nothing is stored."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def page_intent(conn: sqlite3.Connection, intent_id: str, client_secret: str) -> store.Stored:
    found = store.get(conn, intent_id, "setup_intent")
    if found is None or not hmac.compare_digest(str(found.body["client_secret"]), client_secret):
        raise missing("setup intent", intent_id)
    return found


def page_view(intent: dict[str, Any]) -> dict[str, Any]:
    """What the page may show: never the client secret back, never another object."""
    error = intent.get("last_setup_error") or {}
    return {
        "id": intent["id"],
        "status": intent["status"],
        "payment_method_types": intent["payment_method_types"],
        "error": {"code": error.get("decline_code") or error.get("code"), "message": error.get("message")}
        if error
        else None,
    }


def _fingerprint(ctx: Context, value: str) -> str:
    return hmac.new(ctx.fingerprint_key, value.encode(), hashlib.sha256).hexdigest()[:16]


def page_confirm(
    conn: sqlite3.Connection, intent_id: str, client_secret: str, method: dict[str, Any], ctx: Context
) -> dict[str, Any]:
    found = page_intent(conn, intent_id, client_secret)
    intent = found.body
    if intent["status"] == "requires_action":
        raise PageError("Complete or fail the authentication first.", "status")
    if intent["status"] not in ("requires_payment_method", "requires_confirmation"):
        raise PageError("This payment method is already saved.", "status")
    kind = method.get("type")
    if kind not in intent["payment_method_types"]:
        raise PageError("this payment method type is not offered here", "type")
    if kind == "card":
        pm, private, needs_authentication = _card_method(method, ctx)
    else:
        pm, private = _sepa_method(method, ctx)
        needs_authentication = False
    private["setup_intent"] = intent_id
    store.put(conn, pm, private)
    intent["payment_method"] = pm["id"]
    intent["last_setup_error"] = None
    if needs_authentication:
        intent["status"] = "requires_action"
        intent["next_action"] = {"type": "use_stripe_sdk", "use_stripe_sdk": {"type": "three_d_secure_redirect"}}
        store.put(conn, intent)
        store.add_event(conn, "setup_intent.requires_action", intent, idempotency_key=None)
        return page_view(intent)
    return _setup_succeeded(conn, intent, pm, private)


def _card_method(method: dict[str, Any], ctx: Context) -> tuple[dict[str, Any], dict[str, Any], bool]:
    card = _object(method, "card")
    number = "".join(str(card.get("number", "")).split())
    if not luhn_valid(number):
        raise PageError("Your card number is incorrect.", "number")
    test_card = TEST_CARDS.get(number)
    if test_card is None:
        raise PageError(
            "This is a sandbox: use one of Stripe's test card numbers, such as 4242 4242 4242 4242.", "number"
        )
    try:
        exp_month, exp_year = int(card.get("exp_month", 0)), int(card.get("exp_year", 0))
    except (TypeError, ValueError):
        raise PageError("Your card's expiration date is invalid.", "expiry") from None
    if exp_year < 100:
        exp_year += 2000
    today = time.gmtime()
    if (
        not 1 <= exp_month <= 12
        or (exp_year, exp_month) < (today.tm_year, today.tm_mon)
        or exp_year > today.tm_year + 50
    ):
        raise PageError("Your card's expiration date is invalid.", "expiry")
    cvc = str(card.get("cvc", ""))
    if not cvc.isdigit() or len(cvc) != (4 if test_card.brand == "amex" else 3):
        raise PageError("Your card's security code is invalid.", "cvc")
    pm = {
        "id": store.new_id("pm"),
        "object": "payment_method",
        "type": "card",
        "billing_details": {"name": _name(method)},
        "card": {
            "brand": test_card.brand,
            "display_brand": test_card.brand,
            "checks": {"cvc_check": "pass", "address_line1_check": None, "address_postal_code_check": None},
            "country": "US",
            "exp_month": exp_month,
            "exp_year": exp_year,
            "fingerprint": _fingerprint(ctx, number),
            "funding": test_card.funding,
            "last4": number[-4:],
        },
        "created": _now(),
        "customer": None,
        "livemode": False,
        "metadata": {},
    }
    return pm, {"profile": test_card.profile}, test_card.setup_authentication


def _sepa_method(method: dict[str, Any], ctx: Context) -> tuple[dict[str, Any], dict[str, Any]]:
    details = _object(method, "sepa_debit")
    iban = "".join(str(details.get("iban", "")).split()).upper()
    if not iban_valid(iban):
        raise PageError("The IBAN you entered is invalid.", "iban")
    test_iban = TEST_IBANS.get(iban)
    if test_iban is None:
        raise PageError("This is a sandbox: use one of Stripe's test IBANs, such as DE89370400440532013000.", "iban")
    name = _name(method)
    email = str(_object(method, "billing_details").get("email") or "").strip()
    if not name:
        raise PageError("The account holder's name is required for a SEPA Direct Debit mandate.", "name")
    if "@" not in email:
        raise PageError("An e-mail address is required for a SEPA Direct Debit mandate.", "email")
    pm = {
        "id": store.new_id("pm"),
        "object": "payment_method",
        "type": "sepa_debit",
        "billing_details": {"name": name, "email": email},
        "sepa_debit": {
            "bank_code": iban[4:12] if iban.startswith("DE") else iban[4:9],
            "country": iban[:2],
            "fingerprint": _fingerprint(ctx, iban),
            "last4": iban[-4:],
        },
        "created": _now(),
        "customer": None,
        "livemode": False,
        "metadata": {},
    }
    return pm, {"profile": test_iban.profile}


def _object(parent: dict[str, Any], name: str) -> dict[str, Any]:
    value = parent.get(name)
    return value if isinstance(value, dict) else {}


def _name(method: dict[str, Any]) -> str | None:
    name = str(_object(method, "billing_details").get("name") or "").strip()[:100]
    return name or None


def _setup_succeeded(
    conn: sqlite3.Connection, intent: dict[str, Any], pm: dict[str, Any], private: dict[str, Any]
) -> dict[str, Any]:
    pm["customer"] = intent["customer"]
    store.put(conn, pm, private)
    intent["status"] = "succeeded"
    intent["next_action"] = None
    if pm["type"] == "sepa_debit":
        intent["mandate"] = store.new_id("mandate")
    store.put(conn, intent)
    if intent["customer"]:
        store.add_event(conn, "payment_method.attached", pm, idempotency_key=None)
    store.add_event(conn, "setup_intent.succeeded", intent, idempotency_key=None)
    return page_view(intent)


def page_authenticate(
    conn: sqlite3.Connection, intent_id: str, client_secret: str, *, complete: bool
) -> dict[str, Any]:
    """The test 3-D Secure challenge: the shopper completes or fails it."""
    intent = page_intent(conn, intent_id, client_secret).body
    if intent["status"] != "requires_action":
        raise PageError("there is no authentication to complete", "status")
    pm_found = store.get(conn, str(intent["payment_method"]), "payment_method")
    if pm_found is None:  # written in the same transaction as requires_action
        raise PageError("the payment method is gone; start again", "status")
    if complete:
        return _setup_succeeded(conn, intent, pm_found.body, pm_found.private)
    intent["status"] = "requires_payment_method"
    intent["payment_method"] = None
    intent["next_action"] = None
    intent["last_setup_error"] = {
        "type": "invalid_request_error",
        "code": "setup_intent_authentication_failure",
        "message": "We are unable to authenticate your payment method. Please choose a different payment method "
        "and try again.",
    }
    store.put(conn, intent)
    store.add_event(conn, "setup_intent.setup_failed", intent, idempotency_key=None)
    return page_view(intent)


# --- payments and refunds ---


def _amount(params: dict[str, Any]) -> int:
    raw = _str(params, "amount", required=True)
    if raw is None or not raw.isdigit() or int(raw) <= 0:
        raise ApiError(
            400, "Invalid integer: amount must be a positive integer", code="parameter_invalid_integer", param="amount"
        )
    return int(raw)


def create_payment_intent(conn: sqlite3.Connection, params: dict[str, Any], ctx: Context) -> Result:
    amount = _amount(params)
    currency = (_str(params, "currency", required=True) or "").lower()
    if currency not in CURRENCIES:
        raise ApiError(400, f"Invalid currency: {currency}.", param="currency")
    if amount < MINIMUM_CHARGE.get(currency, 50):
        raise ApiError(
            400,
            f"Amount must be at least {MINIMUM_CHARGE.get(currency, 50)} {currency}",
            code="amount_too_small",
            param="amount",
        )
    customer = _customer(conn, _str(params, "customer"))
    pm_id = _str(params, "payment_method")
    pm_found = store.get(conn, pm_id, "payment_method") if pm_id else None
    if pm_id and pm_found is None:
        raise missing("PaymentMethod", pm_id, "payment_method")
    if pm_found is not None and pm_found.body["customer"] != customer:
        raise ApiError(
            400,
            "The provided PaymentMethod was previously used with a PaymentIntent without Customer attachment, "
            "shared with a connected account without Customer attachment, or was detached from a Customer. "
            "It may not be used again. To use a PaymentMethod multiple times, you must attach it to a Customer first.",
            param="payment_method",
        )
    confirm, off_session = _bool(params, "confirm"), _bool(params, "off_session")
    if confirm and pm_found is None:
        raise ApiError(
            400, "You cannot confirm this PaymentIntent because it's missing a payment method.", param="payment_method"
        )
    intent_id = store.new_id("pi")
    intent: dict[str, Any] = {
        "id": intent_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_received": 0,
        "capture_method": "automatic",
        "client_secret": f"{intent_id}_secret_{store.new_id('x', 24)[2:]}",
        "confirmation_method": "automatic",
        "created": _now(),
        "currency": currency,
        "customer": customer,
        "description": _str(params, "description"),
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "metadata": _metadata(params),
        "next_action": None,
        "payment_method": pm_id,
        "payment_method_types": [pm_found.body["type"]] if pm_found else ["card"],
        "status": "requires_confirmation" if pm_found else "requires_payment_method",
    }
    private: dict[str, Any] = {"refunded": 0}
    if not confirm or pm_found is None:
        store.put(conn, intent, private)
        store.add_event(conn, "payment_intent.created", intent, idempotency_key=ctx.idempotency_key)
        return 200, intent
    store.add_event(conn, "payment_intent.created", dict(intent), idempotency_key=ctx.idempotency_key)
    intent["latest_charge"] = store.new_id("ch")
    pm = pm_found.body
    if pm["type"] == "sepa_debit":
        # SEPA Direct Debit is asynchronous: processing now, settled (or failed) later, told by webhook
        intent["status"] = "processing"
        store.put(conn, intent, private, due=time.time() + ctx.sepa_settle_seconds)
        store.add_event(conn, "payment_intent.processing", intent, idempotency_key=ctx.idempotency_key)
        return 200, intent
    card = CARDS_BY_PROFILE[pm_found.private["profile"]]
    error: dict[str, Any] | None = None
    if card.charge_authentication:
        if not off_session:
            intent["status"] = "requires_action"
            intent["next_action"] = {"type": "use_stripe_sdk", "use_stripe_sdk": {"type": "three_d_secure_redirect"}}
            store.put(conn, intent, private)
            store.add_event(conn, "payment_intent.requires_action", intent, idempotency_key=ctx.idempotency_key)
            return 200, intent
        error = {
            "type": "card_error",
            "code": "authentication_required",
            "decline_code": "authentication_required",
            "message": "Your card was declined. This transaction requires authentication.",
        }
    elif card.decline_code:
        error = {
            "type": "card_error",
            "code": "card_declined",
            "decline_code": card.decline_code,
            "message": card.message,
        }
    if error is None:
        intent["status"] = "succeeded"
        intent["amount_received"] = amount
        store.put(conn, intent, private)
        store.add_event(conn, "payment_intent.succeeded", intent, idempotency_key=ctx.idempotency_key)
        return 200, intent
    error = {**error, "charge": intent["latest_charge"], "payment_method": pm}
    intent["status"] = "requires_payment_method"
    intent["last_payment_error"] = error
    store.put(conn, intent, private)
    store.add_event(conn, "payment_intent.payment_failed", intent, idempotency_key=ctx.idempotency_key)
    return 402, {"error": {**error, "payment_intent": intent}}


def create_refund(conn: sqlite3.Connection, params: dict[str, Any], ctx: Context) -> Result:
    intent_id = _str(params, "payment_intent")
    charge_id = _str(params, "charge")
    if intent_id is None and charge_id is None:
        raise ApiError(
            400, "One of the following params should be provided for this request: payment_intent or charge."
        )
    found = store.get(conn, intent_id, "payment_intent") if intent_id else _intent_of_charge(conn, str(charge_id))
    if found is None:
        raise missing(
            "payment_intent" if intent_id else "charge",
            str(intent_id or charge_id),
            "payment_intent" if intent_id else "charge",
        )
    intent, private = found.body, found.private
    if intent["status"] != "succeeded":
        raise ApiError(
            400,
            f"This PaymentIntent ({intent['id']}) does not have a successful charge to refund.",
            code="charge_not_refundable" if intent["status"] != "processing" else "payment_intent_unexpected_state",
            param="payment_intent",
        )
    remaining = int(intent["amount_received"]) - int(private.get("refunded", 0))
    if remaining <= 0:
        raise ApiError(
            400, f"Charge {intent['latest_charge']} has already been refunded.", code="charge_already_refunded"
        )
    amount = _amount(params) if params.get("amount") is not None else remaining
    if amount > remaining:
        raise ApiError(
            400,
            f"Refund amount ({amount} {intent['currency']}) is greater than unrefunded amount on charge "
            f"({remaining} {intent['currency']})",
            code="amount_too_large",
            param="amount",
        )
    private["refunded"] = int(private.get("refunded", 0)) + amount
    store.put(conn, intent, private)
    sepa = intent["payment_method_types"] == ["sepa_debit"]
    refund = {
        "id": store.new_id("re"),
        "object": "refund",
        "amount": amount,
        "charge": intent["latest_charge"],
        "created": _now(),
        "currency": intent["currency"],
        # the money goes back the way it came: the same card, or the same bank account
        "destination_details": {"type": "sepa_debit" if sepa else "card"},
        "metadata": _metadata(params),
        "payment_intent": intent["id"],
        "payment_method": intent["payment_method"],
        "reason": _str(params, "reason"),
        "status": "pending" if sepa else "succeeded",
    }
    store.put(conn, refund, due=time.time() + ctx.sepa_settle_seconds if sepa else None)
    store.add_event(conn, "refund.created", refund, idempotency_key=ctx.idempotency_key)
    store.add_event(
        conn,
        "charge.refunded",
        {
            "id": intent["latest_charge"],
            "object": "charge",
            "payment_intent": intent["id"],
            "amount_refunded": private["refunded"],
        },
        idempotency_key=ctx.idempotency_key,
    )
    return 200, refund


def _intent_of_charge(conn: sqlite3.Connection, charge_id: str) -> store.Stored | None:
    row = conn.execute(
        "SELECT id FROM objects WHERE type = 'payment_intent' AND json_extract(body, '$.latest_charge') = ?",
        (charge_id,),
    ).fetchone()
    return store.get(conn, row["id"], "payment_intent") if row else None


def settle_due(conn: sqlite3.Connection, now: float) -> int:
    """Finish what is asynchronous: SEPA debits and SEPA refunds whose time has come."""
    settled = 0
    for body, private in store.due_objects(conn, now):
        settled += 1
        if body["object"] == "refund":
            body["status"] = "succeeded"
            store.put(conn, body, private)
            store.add_event(conn, "refund.updated", body, idempotency_key=None)
            continue
        pm = store.get(conn, str(body["payment_method"]), "payment_method")
        profile = pm.private.get("profile") if pm else None
        if profile is not None and IBANS_BY_PROFILE[profile].succeeds:
            body["status"] = "succeeded"
            body["amount_received"] = body["amount"]
            store.put(conn, body, private)
            store.add_event(conn, "payment_intent.succeeded", body, idempotency_key=None)
        else:
            body["status"] = "requires_payment_method"
            body["last_payment_error"] = {
                "type": "card_error",
                "code": "payment_intent_payment_attempt_failed",
                "decline_code": "insufficient_funds",
                "message": "The payment failed: the bank refused the direct debit.",
                "payment_method": pm.body if pm else None,
            }
            store.put(conn, body, private)
            store.add_event(conn, "payment_intent.payment_failed", body, idempotency_key=None)
    return settled
