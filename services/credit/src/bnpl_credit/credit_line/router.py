"""HTTP route of the credit line."""

from __future__ import annotations

from bnpl_common.errors import ERROR_RESPONSES
from fastapi import APIRouter

from bnpl_credit.credit_line import service
from bnpl_credit.credit_line.schemas import CreditLineOut
from bnpl_credit.deps import AppClock, CurrentCustomer, CurrentMarkets, CurrentPolicy, Store

router = APIRouter(prefix="/v1/credit-line", tags=["credit-line"], responses=ERROR_RESPONSES)


@router.get("", response_model=CreditLineOut)
async def get_credit_line(
    customer: CurrentCustomer, store: Store, markets: CurrentMarkets, policy: CurrentPolicy, clock: AppClock
) -> CreditLineOut:
    """The caller's credit limit (as their repayments have moved it, and why), exposure and available credit."""
    return await service.credit_line(store, markets, customer.sub, now=clock.now(), policy=policy)
