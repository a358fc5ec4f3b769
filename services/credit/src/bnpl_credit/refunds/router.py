"""HTTP route of merchant refunds (merchant-signed, no user token)."""

from __future__ import annotations

from bnpl_common.errors import ERROR_RESPONSES
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from bnpl_credit.deps import AppClock, CurrentMarkets, CurrentMerchant, IdempotencyKey, Store
from bnpl_credit.refunds import service
from bnpl_credit.refunds.schemas import Refund, RefundInput

router = APIRouter(prefix="/v1/merchant/refunds", tags=["refunds"], responses=ERROR_RESPONSES)


@router.post(
    "",
    status_code=201,
    response_model=Refund,
    responses={404: {"description": "No such plan for this merchant"}, 409: {"description": "Refunded or key reused"}},
)
async def create_refund(
    body: RefundInput,
    merchant: CurrentMerchant,
    store: Store,
    markets: CurrentMarkets,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Refund part or all of a purchase paid with a plan."""
    stored = await service.refund(store, markets, clock, merchant, body=body, idempotency_key=idempotency_key)
    return JSONResponse(stored.body, status_code=stored.status_code)
