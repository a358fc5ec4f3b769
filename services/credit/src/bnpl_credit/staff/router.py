"""``/v1/staff``: who an application or plan belongs to, a customer's business with the
platform, a plan's payments and refunds (reviewers and approvers; every view audited)."""

from __future__ import annotations

from typing import Annotated

from bnpl_common.errors import ERROR_RESPONSES
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from bnpl_credit.deps import AppClock, CurrentMarkets, IdempotencyKey, Store
from bnpl_credit.plans import waivers
from bnpl_credit.reviews.deps import Approver, Reviewer
from bnpl_credit.staff import service
from bnpl_credit.staff.schemas import CustomerOverview, LateFeeWaiver, Owner, StaffPlan, WaiverInput

router = APIRouter(prefix="/v1/staff", tags=["staff"], responses=ERROR_RESPONSES)


@router.get("/owners", response_model=Owner)
async def owner(
    staff: Reviewer,
    store: Store,
    application_id: Annotated[str | None, Query(alias="applicationId", max_length=128)] = None,
    plan_id: Annotated[str | None, Query(alias="planId", max_length=128)] = None,
) -> Owner:
    """The customer an application or a plan belongs to."""
    return await service.owner_of(store, application_id=application_id, plan_id=plan_id)


@router.get("/customers/{customer_id}/overview", response_model=CustomerOverview)
async def customer_overview(
    customer_id: str, staff: Reviewer, store: Store, markets: CurrentMarkets, clock: AppClock
) -> CustomerOverview:
    """A customer's latest applications and plans (the view is audited)."""
    return await service.overview(store, markets, clock, staff, customer_id=customer_id)


@router.get("/plans/{plan_id}", response_model=StaffPlan)
async def staff_plan(
    plan_id: str, staff: Reviewer, store: Store, markets: CurrentMarkets, clock: AppClock
) -> StaffPlan:
    """A plan with its payments and refunds (the view is audited)."""
    return await service.plan_view(store, markets, clock, staff, plan_id=plan_id)


@router.post("/plans/{plan_id}/late-fee-waivers", status_code=201, response_model=LateFeeWaiver)
async def waive_late_fee(
    plan_id: str,
    body: WaiverInput,
    staff: Approver,
    store: Store,
    markets: CurrentMarkets,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Waive the unpaid late fee of one installment, or of all, with a reason (approvers; audited)."""
    stored = await waivers.waive_late_fee(
        store,
        markets,
        clock,
        staff,
        plan_id=plan_id,
        installment=body.installment,
        reason=body.reason,
        idempotency_key=idempotency_key,
    )
    return JSONResponse(stored.body, status_code=stored.status_code)
