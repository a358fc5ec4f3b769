"""HTTP routes of credit applications (HTTP only: the rules live in ``service``)."""

from __future__ import annotations

from typing import Annotated, Any

from bnpl_common.errors import ERROR_RESPONSES
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from bnpl_credit.applications import service
from bnpl_credit.applications.schemas import ApplicationInput, ApplicationPage, CreditApplication
from bnpl_credit.deps import AppClock, ApplicationRepo, CurrentCustomer, Engine, IdempotencyKey, PlanRepo
from bnpl_credit.plans import service as plan_service
from bnpl_credit.plans.schemas import PaymentPlan

router = APIRouter(prefix="/v1/applications", tags=["applications"], responses=ERROR_RESPONSES)


@router.post(
    "",
    status_code=201,
    response_model=CreditApplication,
    responses={409: {"description": "Idempotency key reused with another body"}},
)
async def apply_for_credit(
    body: ApplicationInput,
    customer: CurrentCustomer,
    repo: ApplicationRepo,
    engine: Engine,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Decide a credit application for the caller's order."""
    stored = await service.apply_for_credit(
        repo, engine, clock, customer.sub, body=body, idempotency_key=idempotency_key
    )
    return JSONResponse(stored.body, status_code=stored.status_code)


@router.get("", response_model=ApplicationPage)
async def list_applications(
    customer: CurrentCustomer,
    repo: ApplicationRepo,
    clock: AppClock,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    next_token: Annotated[str | None, Query(alias="nextToken", max_length=1024)] = None,
) -> Any:
    """The caller's applications, newest first."""
    return await service.list_applications(repo, clock, customer.sub, limit=limit, next_token=next_token)


@router.get("/{application_id}", response_model=CreditApplication, responses={404: {"description": "Not found"}})
async def get_application(
    application_id: str, customer: CurrentCustomer, repo: ApplicationRepo, clock: AppClock
) -> Any:
    """One of the caller's applications."""
    return await service.get_application(repo, clock, customer.sub, application_id=application_id)


@router.post(
    "/{application_id}/confirm",
    status_code=201,
    response_model=PaymentPlan,
    responses={404: {"description": "Not found"}, 409: {"description": "Not confirmable or key reused"}},
)
async def confirm_application(
    application_id: str,
    customer: CurrentCustomer,
    repo: ApplicationRepo,
    plans: PlanRepo,
    engine: Engine,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Turn an approval into a payment plan."""
    stored = await plan_service.confirm_application(
        repo,
        plans,
        engine.policy,
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
    application_id: str, customer: CurrentCustomer, repo: ApplicationRepo, clock: AppClock
) -> Any:
    """Withdraw an approval that was not confirmed."""
    return await service.cancel_application(repo, clock, customer.sub, application_id=application_id)
