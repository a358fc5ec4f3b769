"""``/v1/staff``: who an application or plan belongs to, a customer's business with the
platform, a plan's payments and refunds (reviewers and approvers; every view audited)."""

from __future__ import annotations

from typing import Annotated

from bnpl_common.errors import ERROR_RESPONSES
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from bnpl_credit.deps import AppClock, CurrentMarkets, IdempotencyKey, Store
from bnpl_credit.plans import waivers
from bnpl_credit.reviews.deps import Approver, Reviewer, Reviews
from bnpl_credit.staff import merchants, service
from bnpl_credit.staff.schemas import (
    CustomerOverview,
    LateFeeWaiver,
    MerchantCreated,
    MerchantInput,
    MerchantKeyCreated,
    MerchantList,
    MerchantView,
    MerchantWebhookSecret,
    OriginsInput,
    Owner,
    StaffPlan,
    StatusInput,
    WaiverInput,
    WebhookUrlInput,
)

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


@router.get("/merchants", response_model=MerchantList)
async def list_merchants(staff: Approver, store: Store, clock: AppClock) -> MerchantList:
    """Every merchant, without secrets (approvers)."""
    return MerchantList(items=await merchants.list_merchants(store, clock))


@router.post("/merchants", status_code=201, response_model=MerchantCreated)
async def create_merchant(
    body: MerchantInput, staff: Approver, store: Store, markets: CurrentMarkets, clock: AppClock, reviews: Reviews
) -> MerchantCreated:
    """A new merchant: its first access key and webhook secret are in this answer only (audited)."""
    return await merchants.create(store, markets, clock, staff, body=body, local=reviews.local)


@router.post("/merchants/{merchant_id}/suspension", response_model=MerchantView)
async def suspend_merchant(
    merchant_id: str, body: StatusInput, staff: Approver, store: Store, clock: AppClock
) -> MerchantView:
    """Suspend: no new checkout sessions (captures, voids and refunds go on); audited."""
    return await merchants.set_status(store, clock, staff, merchant_id=merchant_id, active=False, reason=body.reason)


@router.post("/merchants/{merchant_id}/activation", response_model=MerchantView)
async def activate_merchant(
    merchant_id: str, body: StatusInput, staff: Approver, store: Store, clock: AppClock
) -> MerchantView:
    """Activate a suspended merchant; audited."""
    return await merchants.set_status(store, clock, staff, merchant_id=merchant_id, active=True, reason=body.reason)


@router.put("/merchants/{merchant_id}/origins", response_model=MerchantView)
async def set_merchant_origins(
    merchant_id: str, body: OriginsInput, staff: Approver, store: Store, clock: AppClock
) -> MerchantView:
    """Replace the origins the merchant's return and cancel URLs may use; audited."""
    return await merchants.set_origins(store, clock, staff, merchant_id=merchant_id, origins=list(body.origins))


@router.put("/merchants/{merchant_id}/webhook-url", response_model=MerchantView)
async def set_merchant_webhook_url(
    merchant_id: str, body: WebhookUrlInput, staff: Approver, store: Store, clock: AppClock, reviews: Reviews
) -> MerchantView:
    """Set (or, with null, remove) where the merchant's webhooks go; audited."""
    return await merchants.set_webhook_url(
        store, clock, staff, merchant_id=merchant_id, url=body.webhook_url, local=reviews.local
    )


@router.post("/merchants/{merchant_id}/key-rotations", status_code=201, response_model=MerchantKeyCreated)
async def rotate_merchant_key(merchant_id: str, staff: Approver, store: Store, clock: AppClock) -> MerchantKeyCreated:
    """A new access key (shown once); the current ones stay valid for 24 hours; audited."""
    return await merchants.rotate_key(store, clock, staff, merchant_id=merchant_id)


@router.post("/merchants/{merchant_id}/webhook-secret-rotations", status_code=201, response_model=MerchantWebhookSecret)
async def rotate_merchant_webhook_secret(
    merchant_id: str, staff: Approver, store: Store, clock: AppClock
) -> MerchantWebhookSecret:
    """A new webhook signing secret (shown once); the previous one signs too for 24 hours; audited."""
    return await merchants.rotate_webhook_secret(store, clock, staff, merchant_id=merchant_id)
