"""The stored documents of the merchant registry and checkout sessions (both adapters)."""

from __future__ import annotations

from datetime import datetime

from bnpl_common.timefmt import format_instant, parse_instant

from bnpl_credit.merchants.model import Merchant, MerchantKey, MerchantStatus
from bnpl_credit.storage.documents import Doc


def _opt_iso(moment: datetime | None) -> str | None:
    return format_instant(moment) if moment is not None else None


def _opt_time(text: str | None) -> datetime | None:
    return parse_instant(text) if text else None


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
