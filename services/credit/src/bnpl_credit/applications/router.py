"""HTTP routes of credit applications (HTTP only: the rules live in ``deciding``, ``holds``,
``queries``; confirming an approval is ``plans.confirm``, routed here for its URL)."""

from __future__ import annotations

from typing import Annotated

from bnpl_common.errors import ERROR_RESPONSES
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from bnpl_credit.applications import deciding, holds, queries
from bnpl_credit.applications.profile_trust import check_profile_signature
from bnpl_credit.applications.schemas import ApplicationInput, ApplicationPage, CreditApplication
from bnpl_credit.deps import AppClock, CurrentCustomer, CurrentMarkets, Engine, IdempotencyKey, Store
from bnpl_credit.plans import confirm
from bnpl_credit.plans.schemas import PaymentPlan

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
    body: ApplicationInput,
    customer: CurrentCustomer,
    store: Store,
    engine: Engine,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Decide a credit application for the caller's order."""
    check_profile_signature(request.app.state.profile_verifier, await request.json(), body.profile_signature)
    stored = await deciding.apply_for_credit(
        store,
        engine,
        clock,
        customer.sub,
        body=body,
        idempotency_key=idempotency_key,
        finance_review=request.app.state.finance_review,
    )
    return JSONResponse(stored.body, status_code=stored.status_code)


@router.get("", response_model=ApplicationPage)
async def list_applications(
    customer: CurrentCustomer,
    store: Store,
    clock: AppClock,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    next_token: Annotated[str | None, Query(alias="nextToken", max_length=1024)] = None,
) -> ApplicationPage:
    """The caller's applications, newest first."""
    return await queries.list_applications(store, clock, customer.sub, limit=limit, next_token=next_token)


@router.get("/{application_id}", response_model=CreditApplication, responses={404: {"description": "Not found"}})
async def get_application(
    application_id: str, customer: CurrentCustomer, store: Store, clock: AppClock
) -> CreditApplication:
    """One of the caller's applications."""
    return await queries.get_application(store, clock, customer.sub, application_id=application_id)


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
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Turn an approval into a payment plan."""
    stored = await confirm.confirm_application(
        store,
        markets,
        clock,
        customer.sub,
        application_id=application_id,
        idempotency_key=idempotency_key,
    )
    return JSONResponse(stored.body, status_code=stored.status_code)


@router.post(
    "/{application_id}/cancel",
    response_model=CreditApplication,
    responses={404: {"description": "Not found"}, 409: {"description": "Not cancellable"}},
)
async def cancel_application(
    application_id: str, customer: CurrentCustomer, store: Store, clock: AppClock
) -> CreditApplication:
    """Withdraw an approval that was not confirmed."""
    return await holds.cancel_application(store, clock, customer.sub, application_id=application_id)
