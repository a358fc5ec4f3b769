"""The stored documents of the merchant registry and checkout sessions (both adapters)."""

from __future__ import annotations

from datetime import datetime

from bnpl_common.timefmt import format_instant, parse_instant

from bnpl_credit.checkouts.model import CheckoutItem, CheckoutSession, CheckoutStatus
from bnpl_credit.decision.policy import PLAN_TYPES, PlanTypeName
from bnpl_credit.merchants.model import Merchant, MerchantKey, MerchantStatus
from bnpl_credit.storage.documents import Doc


def _opt_iso(moment: datetime | None) -> str | None:
    return format_instant(moment) if moment is not None else None


def _opt_time(text: str | None) -> datetime | None:
    return parse_instant(text) if text else None


_PLAN_TYPES: dict[str, PlanTypeName] = {name: name for name in PLAN_TYPES}


def plan_type(value: str) -> PlanTypeName:
    return _PLAN_TYPES[value]


def merchant_doc(merchant: Merchant) -> Doc:
    """The merchant without its version (kept beside the document)."""
    return {
        "id": merchant.id,
        "displayName": merchant.display_name,
        "status": merchant.status.value,
        "market": merchant.market,
        "currency": merchant.currency,
        "origins": list(merchant.origins),
        "webhookUrl": merchant.webhook_url,
        "webhookSecrets": list(merchant.webhook_secrets),
        "webhookSecretRetiresAt": _opt_iso(merchant.webhook_secret_retires_at),
        "keys": [
            {
                "accessKeyId": k.access_key_id,
                "secretAccessKey": k.secret_access_key,
                "createdAt": format_instant(k.created_at),
                "retiredAt": _opt_iso(k.retired_at),
            }
            for k in merchant.keys
        ],
        "createdAt": format_instant(merchant.created_at),
        "updatedAt": format_instant(merchant.updated_at),
    }


def merchant_from_doc(doc: Doc, version: int) -> Merchant:
    return Merchant(
        id=doc["id"],
        display_name=doc["displayName"],
        status=MerchantStatus(doc["status"]),
        market=doc["market"],
        currency=doc["currency"],
        origins=tuple(doc["origins"]),
        webhook_url=doc.get("webhookUrl"),
        webhook_secrets=tuple(doc["webhookSecrets"]),
        keys=tuple(
            MerchantKey(
                access_key_id=k["accessKeyId"],
                secret_access_key=k["secretAccessKey"],
                created_at=parse_instant(k["createdAt"]),
                retired_at=_opt_time(k.get("retiredAt")),
            )
            for k in doc["keys"]
        ),
        created_at=parse_instant(doc["createdAt"]),
        updated_at=parse_instant(doc["updatedAt"]),
        webhook_secret_retires_at=_opt_time(doc.get("webhookSecretRetiresAt")),
        version=version,
    )


def checkout_doc(session: CheckoutSession) -> Doc:
    """The session without its version (kept beside the document)."""
    return {
        "id": session.id,
        "merchantId": session.merchant_id,
        "orderReference": session.order_reference,
        "status": session.status.value,
        "token": session.token,
        "amount": session.amount,
        "currency": session.currency,
        "items": [{"name": i.name, "quantity": i.quantity, "unitPrice": i.unit_price} for i in session.items],
        "planTypes": list(session.plan_types),
        "returnUrl": session.return_url,
        "cancelUrl": session.cancel_url,
        "shopperEmail": session.shopper_email,
        "shopperPhone": session.shopper_phone,
        "createdAt": format_instant(session.created_at),
        "updatedAt": format_instant(session.updated_at),
        "expiresAt": format_instant(session.expires_at),
        "applicationId": session.application_id,
        "customerId": session.customer_id,
        "planId": session.plan_id,
        "holdEndsAt": _opt_iso(session.hold_ends_at),
        "authorizedAmount": session.authorized_amount,
        "capturedAmount": session.captured_amount,
        "voidedAmount": session.voided_amount,
        "refundedAmount": session.refunded_amount,
        "authorizationExpiresAt": _opt_iso(session.authorization_expires_at),
    }


def checkout_from_doc(doc: Doc, version: int) -> CheckoutSession:
    return CheckoutSession(
        id=doc["id"],
        merchant_id=doc["merchantId"],
        order_reference=doc["orderReference"],
        status=CheckoutStatus(doc["status"]),
        token=doc["token"],
        amount=doc["amount"],
        currency=doc["currency"],
        items=tuple(CheckoutItem(i["name"], i["quantity"], i["unitPrice"]) for i in doc["items"]),
        plan_types=tuple(plan_type(p) for p in doc["planTypes"]),
        return_url=doc["returnUrl"],
        cancel_url=doc["cancelUrl"],
        shopper_email=doc.get("shopperEmail"),
        shopper_phone=doc.get("shopperPhone"),
        created_at=parse_instant(doc["createdAt"]),
        updated_at=parse_instant(doc["updatedAt"]),
        expires_at=parse_instant(doc["expiresAt"]),
        application_id=doc.get("applicationId"),
        customer_id=doc.get("customerId"),
        plan_id=doc.get("planId"),
        hold_ends_at=_opt_time(doc.get("holdEndsAt")),
        authorized_amount=doc["authorizedAmount"],
        captured_amount=doc["capturedAmount"],
        voided_amount=doc["voidedAmount"],
        refunded_amount=doc["refundedAmount"],
        authorization_expires_at=_opt_time(doc.get("authorizationExpiresAt")),
        version=version,
    )
