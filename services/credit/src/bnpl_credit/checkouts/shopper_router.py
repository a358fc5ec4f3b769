"""HTTP route of the shopper's view of a checkout session (gateway-signed, with the user's token)."""

from __future__ import annotations

from bnpl_common.errors import ERROR_RESPONSES
from fastapi import APIRouter

from bnpl_credit.checkouts import shopper
from bnpl_credit.checkouts.schemas import ShopperCheckout
from bnpl_credit.deps import AppClock, CurrentCustomer, Engine, Store

router = APIRouter(prefix="/v1/checkout-sessions", tags=["checkout-sessions"], responses=ERROR_RESPONSES)


@router.get("/{checkout_token}", response_model=ShopperCheckout, responses={404: {"description": "Unknown or expired"}})
async def get_checkout_session(
    checkout_token: str, customer: CurrentCustomer, store: Store, engine: Engine, clock: AppClock
) -> ShopperCheckout:
    """The checkout page's view of a session: the merchant's order and the plans on offer."""
    return await shopper.shopper_checkout(store, engine, clock, customer.sub, token=checkout_token)
