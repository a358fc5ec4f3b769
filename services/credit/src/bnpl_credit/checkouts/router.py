"""HTTP routes of the merchant API's checkout sessions (merchant-signed; every object scoped to
the calling merchant)."""

from __future__ import annotations

from typing import Annotated, Any

from bnpl_common.errors import ERROR_RESPONSES
from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from bnpl_credit.checkouts import service
from bnpl_credit.checkouts.schemas import CaptureInput, CheckoutInput, CheckoutPage, CheckoutRefundInput, CheckoutView
from bnpl_credit.deps import AppClock, CheckoutSettings, CurrentMarkets, IdempotencyKey, Store
from bnpl_credit.merchants.auth import CurrentRegistryMerchant, current_caller
from bnpl_credit.refunds.model import MerchantCaller

router = APIRouter(prefix="/v1/merchant/checkouts", tags=["checkouts"], responses=ERROR_RESPONSES)
Caller = Annotated[MerchantCaller, Depends(current_caller)]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such checkout for this merchant"}}
_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "Not in a state that allows it, or idempotency key reused"}
}


@router.post("", status_code=201, response_model=CheckoutView, responses={**_CONFLICT})
async def create_checkout(
    body: CheckoutInput,
    merchant: CurrentRegistryMerchant,
    store: Store,
    markets: CurrentMarkets,
    clock: AppClock,
    config: CheckoutSettings,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Create a checkout session for an order; send the shopper to its redirectUrl."""
    stored = await service.create_checkout(
        store, markets, clock, merchant, body=body, idempotency_key=idempotency_key, config=config
    )
    return JSONResponse(stored.body, status_code=stored.status_code)


@router.get("", response_model=CheckoutPage)
async def list_checkouts(
    merchant: CurrentRegistryMerchant,
    store: Store,
    clock: AppClock,
    config: CheckoutSettings,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    next_token: Annotated[str | None, Query(alias="nextToken", max_length=1024)] = None,
) -> CheckoutPage:
    """The merchant's checkout sessions, newest first."""
    return await service.list_checkouts(store, clock, merchant, limit=limit, next_token=next_token, config=config)


@router.get("/{checkout_id}", response_model=CheckoutView, responses={**_NOT_FOUND})
async def get_checkout(
    checkout_id: str, merchant: CurrentRegistryMerchant, store: Store, clock: AppClock, config: CheckoutSettings
) -> CheckoutView:
    """The authoritative state of one checkout session."""
    return await service.get_checkout(store, clock, merchant, checkout_id, config=config)


@router.post(
    "/{checkout_id}/captures", status_code=201, response_model=CheckoutView, responses={**_NOT_FOUND, **_CONFLICT}
)
async def capture_checkout(
    checkout_id: str,
    body: CaptureInput,
    merchant: CurrentRegistryMerchant,
    store: Store,
    markets: CurrentMarkets,
    clock: AppClock,
    config: CheckoutSettings,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Capture part or all of the authorized amount (the shopper's schedule starts at the first)."""
    stored = await service.capture(
        store,
        markets,
        clock,
        merchant,
        checkout_id=checkout_id,
        body=body,
        idempotency_key=idempotency_key,
        config=config,
    )
    return JSONResponse(stored.body, status_code=stored.status_code)


@router.post("/{checkout_id}/void", response_model=CheckoutView, responses={**_NOT_FOUND, **_CONFLICT})
async def void_checkout(
    checkout_id: str,
    merchant: CurrentRegistryMerchant,
    caller: Caller,
    store: Store,
    markets: CurrentMarkets,
    clock: AppClock,
    config: CheckoutSettings,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Release what is not captured (before any capture, the plan is cancelled)."""
    stored = await service.void(
        store,
        markets,
        clock,
        merchant,
        checkout_id=checkout_id,
        by=caller.access_key_id,
        idempotency_key=idempotency_key,
        config=config,
    )
    return JSONResponse(stored.body, status_code=stored.status_code)


@router.post(
    "/{checkout_id}/refunds", status_code=201, response_model=CheckoutView, responses={**_NOT_FOUND, **_CONFLICT}
)
async def refund_checkout(
    checkout_id: str,
    body: CheckoutRefundInput,
    merchant: CurrentRegistryMerchant,
    caller: Caller,
    store: Store,
    markets: CurrentMarkets,
    clock: AppClock,
    config: CheckoutSettings,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Refund captured money, never more than captured less refunded."""
    stored = await service.refund(
        store,
        markets,
        clock,
        merchant,
        checkout_id=checkout_id,
        body=body,
        by=caller.access_key_id,
        idempotency_key=idempotency_key,
        config=config,
    )
    return JSONResponse(stored.body, status_code=stored.status_code)
