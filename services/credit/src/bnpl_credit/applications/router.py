"""HTTP routes of credit applications (HTTP only: the rules live in ``deciding``, ``holds``,
``queries``; confirming an approval is ``plans.confirm``, routed here for its URL)."""

from __future__ import annotations

from typing import Annotated

from bnpl_common.errors import ERROR_RESPONSES, ValidationFailed
from bnpl_common.idempotency import StoredResponse
from fastapi import APIRouter, BackgroundTasks, Query, Request
from fastapi.responses import JSONResponse

from bnpl_credit.applications import deciding, disclosure, holds, queries
from bnpl_credit.applications.profile_trust import check_profile_signature
from bnpl_credit.applications.schemas import ApplicationInput, ApplicationPage, ApplyInput, CreditApplication
from bnpl_credit.checkouts import shopper
from bnpl_credit.deps import (
    AppClock,
    AppCollector,
    AppDocuments,
    CheckoutSettings,
    CurrentCustomer,
    CurrentMarkets,
    Engine,
    IdempotencyKey,
    Store,
)
from bnpl_credit.plans import confirm
from bnpl_credit.plans.schemas import ConfirmInput, PaymentPlan

router = APIRouter(prefix="/v1/applications", tags=["applications"], responses=ERROR_RESPONSES)


@router.post(
    "",
    status_code=201,
    response_model=CreditApplication,
    responses={
        403: {"description": "`ProfileNotTrusted`: the profile is unsigned, altered or its signature too old"},
        409: {"description": "Idempotency key reused with another body"},
    },
)
async def apply_for_credit(
    request: Request,
    body: ApplyInput,
    customer: CurrentCustomer,
    store: Store,
    engine: Engine,
    clock: AppClock,
    config: CheckoutSettings,
    documents: AppDocuments,
    markets: CurrentMarkets,
    background: BackgroundTasks,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Decide a credit application for the order of the caller's checkout session."""
    stored = await _decide(request, body, customer.sub, store, engine, clock, config, idempotency_key)
    decided = stored.body
    if stored.status_code == 201 and decided.get("status") in ("APPROVED", "DECLINED") and decided.get("id"):
        # its document is rendered once the answer is sent: the page's first read finds it stored
        background.add_task(disclosure.prepare, store, documents, markets, customer.sub, str(decided["id"]))
    return JSONResponse(decided, status_code=stored.status_code)


async def _decide(
    request: Request,
    body: ApplyInput,
    sub: str,
    store: Store,
    engine: Engine,
    clock: AppClock,
    config: CheckoutSettings,
    idempotency_key: str | None,
) -> StoredResponse:
    check_profile_signature(request.app.state.profile_verifier, await request.json(), body.profile_signature)
    finance_review = request.app.state.finance_review
    if body.order is not None:  # legacy: the order as the checkout link carried it
        if body.checkout_token is not None or body.plan_type is not None:
            raise ValidationFailed("give checkoutToken and planType, or order, not both", field="order")
        legacy = ApplicationInput(order=body.order, profile=body.profile, profile_signature=body.profile_signature)
        return await deciding.apply_for_credit(
            store,
            engine,
            clock,
            sub,
            body=legacy,
            idempotency_key=idempotency_key,
            finance_review=finance_review,
        )
    if body.checkout_token is None:
        raise ValidationFailed("checkoutToken is required", field="checkoutToken")
    if body.plan_type is None:
        raise ValidationFailed("planType is required", field="planType")
    return await shopper.apply_with_checkout(
        store,
        engine,
        clock,
        sub,
        token=body.checkout_token,
        plan_type=body.plan_type,
        profile=body.profile,
        profile_signature=body.profile_signature,
        idempotency_key=idempotency_key,
        config=config,
        finance_review=finance_review,
    )


@router.get("", response_model=ApplicationPage)
async def list_applications(
    customer: CurrentCustomer,
    store: Store,
    clock: AppClock,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    next_token: Annotated[str | None, Query(alias="nextToken", max_length=1024)] = None,
) -> ApplicationPage:
    """The caller's applications, newest first."""
    page = await queries.list_applications(store, clock, customer.sub, limit=limit, next_token=next_token)
    checkouts = await store.checkout_ids_of([item.id for item in page.items])
    for item in page.items:
        item.checkout_id = checkouts.get(item.id)
    return page


@router.get("/{application_id}", response_model=CreditApplication, responses={404: {"description": "Not found"}})
async def get_application(
    application_id: str, customer: CurrentCustomer, store: Store, clock: AppClock
) -> CreditApplication:
    """One of the caller's applications."""
    view = await queries.get_application(store, clock, customer.sub, application_id=application_id)
    session = await store.checkout_by_application(application_id)
    if session is not None:
        view.checkout_id = session.id
    return view


@router.post(
    "/{application_id}/confirm",
    status_code=201,
    response_model=PaymentPlan,
    responses={404: {"description": "Not found"}, 409: {"description": "Not confirmable or key reused"}},
)
async def confirm_application(
    application_id: str,
    customer: CurrentCustomer,
    store: Store,
    markets: CurrentMarkets,
    clock: AppClock,
    config: CheckoutSettings,
    documents: AppDocuments,
    collector: AppCollector,
    body: ConfirmInput | None = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Turn an approval into a payment plan (with the accepted pre-contract document's hash)."""
    stored = await confirm.confirm_application(
        store,
        markets,
        clock,
        customer.sub,
        application_id=application_id,
        idempotency_key=idempotency_key,
        checkout_config=config,
        documents=documents,
        accepted_document_hash=body.accepted_document_hash if body else None,
        collector=collector,
    )
    return JSONResponse(stored.body, status_code=stored.status_code)


@router.post(
    "/{application_id}/cancel",
    response_model=CreditApplication,
    responses={404: {"description": "Not found"}, 409: {"description": "Not cancellable"}},
)
async def cancel_application(
    application_id: str, customer: CurrentCustomer, store: Store, clock: AppClock, config: CheckoutSettings
) -> CreditApplication:
    """Withdraw an approval that was not confirmed."""
    cancelled = await holds.cancel_application(store, clock, customer.sub, application_id=application_id)
    await shopper.after_cancel(store, clock, application_id=application_id, config=config)
    cancelled.checkout_id = (await store.checkout_ids_of([application_id])).get(application_id)
    return cancelled
