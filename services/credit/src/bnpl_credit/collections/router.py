"""HTTP routes of the shopper's payment method (the card is typed on the PSP's page, not here)."""

from __future__ import annotations

from bnpl_common.errors import ERROR_RESPONSES, DependencyFailed
from fastapi import APIRouter, Request

from bnpl_credit.collections import service, webhooks
from bnpl_credit.collections.scheduler import Collection
from bnpl_credit.collections.schemas import PaymentMethodOnFile, PaymentMethodOut, PspWebhookAck, Setup, SetupInput
from bnpl_credit.collections.service import Collector
from bnpl_credit.deps import AppClock, AppCollector, CurrentCustomer, Store

router = APIRouter(prefix="/v1/payment-method", tags=["payment methods"], responses=ERROR_RESPONSES)
psp_router = APIRouter(prefix="/v1/psp", tags=["payment methods"], responses=ERROR_RESPONSES)


def _needed(collector: Collector | None) -> Collector:
    if collector is None:
        raise DependencyFailed("payment methods are not collected here (PAYMENT_COLLECTION=off)")
    return collector


@router.get("", response_model=PaymentMethodOnFile)
async def get_payment_method(customer: CurrentCustomer, store: Store) -> PaymentMethodOnFile:
    """The caller's payment method on file (null until one was saved)."""
    profile = await store.get_payment_profile(customer.sub)
    method = profile.method if profile else None
    return PaymentMethodOnFile(payment_method=PaymentMethodOut.of(method) if method else None)


@router.post("/setups", status_code=201, response_model=Setup)
async def start_setup(customer: CurrentCustomer, store: Store, collector: AppCollector, body: SetupInput) -> Setup:
    """Start saving a card on the PSP's page, which sends the shopper back to ``returnUrl``."""
    session = await service.start_setup(
        store, _needed(collector), customer.sub, return_url=body.return_url, method=body.method
    )
    return Setup.of(session)


@router.post("/setups/{setup_id}/complete", response_model=PaymentMethodOut)
async def complete_setup(
    setup_id: str, customer: CurrentCustomer, store: Store, collector: AppCollector, clock: AppClock
) -> PaymentMethodOut:
    """Keep the method the setup saved; it replaces the one on file."""
    method = await service.complete_setup(store, _needed(collector), clock, customer.sub, setup_id=setup_id)
    return PaymentMethodOut.of(method)


@psp_router.post("/webhooks", response_model=PspWebhookAck)
async def psp_webhook(request: Request, store: Store, collector: AppCollector, clock: AppClock) -> PspWebhookAck:
    """A webhook from the PSP, verified by its ``Stripe-Signature`` (no SigV4); each event applied once."""
    collection: Collection | None = getattr(request.app.state, "collection", None)
    event, outcome = await webhooks.receive(
        store, _needed(collector), collection, clock, payload=await request.body(), headers=request.headers
    )
    return PspWebhookAck(event_id=event.id, outcome=str(outcome))
