"""HTTP routes of quotes."""

from __future__ import annotations

from bnpl_common.errors import ERROR_RESPONSES
from fastapi import APIRouter

from bnpl_credit.deps import AppClock, CurrentCustomer, CurrentMarkets, CurrentPolicy
from bnpl_credit.quotes import service
from bnpl_credit.quotes.schemas import QuoteInput, QuoteOut

router = APIRouter(prefix="/v1/quotes", tags=["quotes"], responses=ERROR_RESPONSES)


@router.post("", response_model=QuoteOut)
async def create_quote(
    body: QuoteInput, _: CurrentCustomer, policy: CurrentPolicy, markets: CurrentMarkets, clock: AppClock
) -> QuoteOut:
    """Offers for the plan types that allow the amount; nothing is stored."""
    return service.quote(policy, markets, body=body, today=clock.now().date())
