"""What a merchant does with its deliveries: list them, and ask for one again."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Protocol

from bnpl_common.clock import Clock
from bnpl_common.errors import ConcurrentUpdate, NotFound
from bnpl_common.idempotency import StoredResponse, check_key, ensure_same_request, fingerprint
from bnpl_common.timefmt import format_instant, parse_instant

from bnpl_credit.errors import InvalidNextToken
from bnpl_credit.idempotency import IdempotencyStore, NewIdempotency
from bnpl_credit.webhooks.ports import DeliveryCursor, WebhookDeliveryStore
from bnpl_credit.webhooks.schemas import WebhookDeliveryPage, WebhookDeliveryView

_MAX_TOKEN_LENGTH = 200
_DELIVERY_ID = re.compile(r"^whd_[0-9a-f]{32}$")
_SAVE_TRIES = 5


class RedeliveryStore(WebhookDeliveryStore, IdempotencyStore, Protocol): ...


class WebhookDeliveryNotFound(NotFound):
    error_type = "WebhookDeliveryNotFound"


def encode_token(cursor: DeliveryCursor) -> str:
    raw = json.dumps([format_instant(cursor.created_at), cursor.delivery_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(token: str) -> DeliveryCursor:
    """The cursor of :func:`encode_token`, checked strictly (else 422 on ``nextToken``); it only
    pages through the caller's own deliveries (the store scopes by merchant)."""
    try:
        if len(token) > _MAX_TOKEN_LENGTH:
            raise ValueError("too long")
        parts = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not (isinstance(parts, list) and len(parts) == 2 and all(isinstance(p, str) for p in parts)):
            raise ValueError("not a cursor")
        created_at, delivery_id = parts
        moment = parse_instant(created_at)
        if format_instant(moment) != created_at or not _DELIVERY_ID.match(delivery_id):
            raise ValueError("not a cursor")
        return DeliveryCursor(moment, delivery_id)
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error) as exc:
        raise InvalidNextToken("nextToken is not valid", field="nextToken") from exc


async def list_deliveries(
    store: WebhookDeliveryStore, merchant_id: str, *, limit: int, next_token: str | None
) -> WebhookDeliveryPage:
    """Newest first; one more than asked is read to know whether there is a next page."""
    after = decode_token(next_token) if next_token else None
    found = await store.list_deliveries(merchant_id, limit=limit + 1, after=after)
    page = found[:limit]
    token = encode_token(DeliveryCursor(page[-1].created_at, page[-1].id)) if len(found) > limit else None
    return WebhookDeliveryPage(items=[WebhookDeliveryView.of(d) for d in page], next_token=token)


async def redeliver(
    store: RedeliveryStore,
    clock: Clock,
    merchant_id: str,
    *,
    delivery_id: str,
    idempotency_key: str | None,
    window: timedelta,
    wake: Callable[[Iterable[str]], None],
) -> StoredResponse:
    """Send a delivery again now (PENDING, retried as a new delivery); 202 with the delivery."""
    key = check_key(idempotency_key)
    scope = f"merchant:{merchant_id}"
    request_fp = fingerprint({"op": "webhook-redelivery", "deliveryId": delivery_id})
    stored = await store.get_idempotent(scope, key, now=clock.now())
    if stored is not None:
        ensure_same_request(stored.fingerprint, request_fp)
        return stored
    for _ in range(_SAVE_TRIES):
        delivery = await store.get_delivery(merchant_id, delivery_id)
        if delivery is None:
            raise WebhookDeliveryNotFound("no such webhook delivery", field="deliveryId")
        now = clock.now()
        again = delivery.redelivery(now=now, window=window)
        body = WebhookDeliveryView.of(again).to_json()
        record = NewIdempotency(scope, key, request_fp, 202, body, now)
        outcome = await store.save_delivery(again, idempotency=record)
        if isinstance(outcome, StoredResponse):  # a concurrent retry with this key won
            ensure_same_request(outcome.fingerprint, request_fp)
            return outcome
        if outcome:
            wake([merchant_id])
            return StoredResponse(request_fp, 202, body)
    raise ConcurrentUpdate("the delivery changed meanwhile; try again", field="deliveryId")
