"""Checking what the pay-later platform signs, with the ``standardwebhooks`` library:

- the shopper's return (query parameters ``checkoutId``, ``outcome``, ``webhookId``,
  ``timestamp``, ``signature``): Standard Webhooks' signature over
  ``{"checkoutId", "outcome"}`` (compact JSON, sorted keys) with ``webhookId`` as the message id;
- webhooks (headers ``webhook-id``, ``webhook-timestamp``, ``webhook-signature``) over the raw body.

Both are HMAC-SHA256 with the merchant's webhook secret and refused outside a 5-minute window.
A signature only says the platform sent it: the order's state is read with GET afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

OUTCOMES = frozenset({"AUTHORIZED", "DECLINED", "REFERRED", "CANCELLED", "EXPIRED"})


class SignatureRefused(Exception):
    """The return or webhook is not the platform's (or too old): say why, trust nothing in it."""


@dataclass(frozen=True, slots=True)
class SignedReturn:
    checkout_id: str
    outcome: str
    webhook_id: str


def return_payload(checkout_id: str, outcome: str) -> str:
    return json.dumps({"checkoutId": checkout_id, "outcome": outcome}, separators=(",", ":"), sort_keys=True)


def verify_return(secret: str, params: Mapping[str, str]) -> SignedReturn:
    """The signed return's checkout and outcome, or :class:`SignatureRefused`."""
    names = ("checkoutId", "outcome", "webhookId", "timestamp", "signature")
    missing = [name for name in names if not params.get(name)]
    if missing:
        raise SignatureRefused(f"the return is missing {', '.join(missing)}")
    checkout_id, outcome, webhook_id = params["checkoutId"], params["outcome"], params["webhookId"]
    if outcome not in OUTCOMES:
        raise SignatureRefused("the return's outcome is not one the platform sends")
    if webhook_id != f"ret_{checkout_id}_{outcome}":
        raise SignatureRefused("the return's id does not match its checkout and outcome")
    headers = {
        "webhook-id": webhook_id,
        "webhook-timestamp": params["timestamp"],
        "webhook-signature": params["signature"],
    }
    _verify(secret, return_payload(checkout_id, outcome), headers)
    return SignedReturn(checkout_id=checkout_id, outcome=outcome, webhook_id=webhook_id)


def verify_webhook(secret: str, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
    """The webhook's JSON object once its signature is checked, or :class:`SignatureRefused`."""
    try:
        text = body.decode()
    except UnicodeDecodeError as exc:
        raise SignatureRefused("the body is not UTF-8") from exc
    wanted = {k.lower(): v for k, v in headers.items() if k.lower().startswith("webhook-")}
    _verify(secret, text, wanted)
    try:
        event = json.loads(text)
    except ValueError as exc:
        raise SignatureRefused("the body is not JSON") from exc
    if not isinstance(event, dict):
        raise SignatureRefused("the body is not a JSON object")
    return event


def _verify(secret: str, payload: str, headers: dict[str, str]) -> None:
    try:
        Webhook(secret).verify(payload, headers, json_parse=False)
    except WebhookVerificationError as exc:
        raise SignatureRefused(f"the signature is not valid ({exc})") from exc
    except ValueError as exc:  # a signature that is not "v1,<base64>" (binascii.Error included)
        raise SignatureRefused("the signature is malformed") from exc
