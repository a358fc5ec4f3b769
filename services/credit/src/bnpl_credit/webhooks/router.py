"""HTTP routes of a merchant's webhook deliveries (merchant-signed, scoped to the caller)."""

from __future__ import annotations

from typing import Annotated

from bnpl_common.errors import ERROR_RESPONSES
from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from bnpl_credit.deps import AppClock, IdempotencyKey, Store
from bnpl_credit.merchants.auth import CurrentRegistryMerchant
from bnpl_credit.webhooks import service
from bnpl_credit.webhooks.runtime import WebhookRuntime, webhook_runtime
from bnpl_credit.webhooks.schemas import WebhookDeliveryPage, WebhookDeliveryView

router = APIRouter(prefix="/v1/merchant/webhook-deliveries", tags=["webhooks"], responses=ERROR_RESPONSES)

Webhooks = Annotated[WebhookRuntime, Depends(webhook_runtime)]


@router.get("", response_model=WebhookDeliveryPage)
async def list_webhook_deliveries(
    merchant: CurrentRegistryMerchant,
    store: Store,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    next_token: Annotated[str | None, Query(alias="nextToken", max_length=1024)] = None,
) -> WebhookDeliveryPage:
    """The caller's webhook deliveries with their attempts, newest first."""
    return await service.list_deliveries(store, merchant.id, limit=limit, next_token=next_token)


@router.post(
    "/{delivery_id}/redeliver",
    status_code=202,
    response_model=WebhookDeliveryView,
    responses={404: {"description": "No such delivery for this merchant"}, 409: {"description": "Key reused"}},
)
async def redeliver_webhook(
    delivery_id: str,
    merchant: CurrentRegistryMerchant,
    store: Store,
    clock: AppClock,
    webhooks: Webhooks,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Send a delivery again now, with the same webhook-id (retried if it fails)."""
    stored = await service.redeliver(
        store,
        clock,
        merchant.id,
        delivery_id=delivery_id,
        idempotency_key=idempotency_key,
        window=webhooks.window,
        wake=webhooks.wake,
    )
    return JSONResponse(stored.body, status_code=stored.status_code)
