"""HTTP routes of review cases and the audit log: ``/v1/staff/...`` for staff (reviewer or
approver by the token's ``cognito:groups``), and the shopper's review request and status."""

from __future__ import annotations

from typing import Annotated

from bnpl_common.errors import ERROR_RESPONSES
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from bnpl_credit.deps import AppClock, CurrentCustomer, Engine, IdempotencyKey, Store
from bnpl_credit.reviews import dashboard, service
from bnpl_credit.reviews.deps import Approver, Reviewer, Reviews
from bnpl_credit.reviews.model import CaseStatus
from bnpl_credit.reviews.reasons import REVIEW_REASONS
from bnpl_credit.reviews.schemas import (
    AuditPage,
    CaseDetail,
    CasePage,
    CaseStatusName,
    CaseSummary,
    DashboardOut,
    DecideInput,
    ReasonCatalogue,
    ReviewRequestInput,
    ReviewStatus,
)
from bnpl_credit.schemas import ReasonOut

staff_router = APIRouter(prefix="/v1/staff", tags=["staff"], responses=ERROR_RESPONSES)
shopper_router = APIRouter(prefix="/v1/applications", tags=["applications"], responses=ERROR_RESPONSES)

Limit = Annotated[int, Query(ge=1, le=100)]
NextToken = Annotated[str | None, Query(alias="nextToken", max_length=1024)]


def _store(store: Store) -> service.Store:
    return store


@staff_router.get("/reviews", response_model=CasePage)
async def review_queue(
    staff: Reviewer,
    store: Store,
    clock: AppClock,
    reviews: Reviews,
    status: CaseStatusName = "OPEN",
    limit: Limit = 20,
    next_token: NextToken = None,
) -> CasePage:
    """Review cases with a status, oldest first."""
    return await service.queue(
        _store(store), clock, reviews.rules, status=CaseStatus(status), limit=limit, next_token=next_token
    )


@staff_router.get("/reviews/{case_id}", response_model=CaseDetail)
async def review_case(case_id: str, staff: Reviewer, store: Store, clock: AppClock, reviews: Reviews) -> CaseDetail:
    """One case with what its decision saw (the view is audited)."""
    return await service.case_detail(_store(store), clock, reviews.rules, staff, case_id=case_id)


@staff_router.post("/reviews/{case_id}/decisions", response_model=CaseSummary)
async def decide_review(
    case_id: str,
    body: DecideInput,
    staff: Reviewer,
    store: Store,
    engine: Engine,
    clock: AppClock,
    reviews: Reviews,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Approve, decline with reasons, or ask the shopper for information."""
    stored = await service.decide(
        _store(store),
        engine,
        clock,
        reviews.rules,
        reviews.sms,
        staff,
        case_id=case_id,
        body=body,
        idempotency_key=idempotency_key,
    )
    return JSONResponse(stored.body, status_code=stored.status_code)


@staff_router.post("/reviews/{case_id}/approvals", response_model=CaseSummary)
async def approve_review(
    case_id: str,
    staff: Approver,
    store: Store,
    engine: Engine,
    clock: AppClock,
    reviews: Reviews,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """The second approval of a four-eyes case (an approver who is not the first reviewer)."""
    stored = await service.approve(
        _store(store),
        engine,
        clock,
        reviews.rules,
        reviews.sms,
        staff,
        case_id=case_id,
        idempotency_key=idempotency_key,
    )
    return JSONResponse(stored.body, status_code=stored.status_code)


@staff_router.get("/dashboard", response_model=DashboardOut)
async def review_dashboard(staff: Reviewer, store: Store, clock: AppClock, reviews: Reviews) -> DashboardOut:
    """The queue by status and age, today's cases and outcomes."""
    board = await dashboard.dashboard(store, clock, ttl=reviews.rules.ttl)
    return DashboardOut(
        generated_at=board.generated_at,
        by_status=board.by_status,
        capped=board.capped,
        oldest_live_age_seconds=board.oldest_live_age_seconds,
        median_live_age_seconds=board.median_live_age_seconds,
        opened_today=board.opened_today,
        closed_today=board.closed_today,
        decisions_today=board.decisions_today,
        live_by_age=board.live_by_age,
        referral_rate=board.referral_rate,
    )


@staff_router.get("/review-reasons", response_model=ReasonCatalogue)
async def review_reasons(staff: Reviewer) -> ReasonCatalogue:
    """The reason catalogue a decline chooses from."""
    return ReasonCatalogue(items=[ReasonOut(code=c, description=d) for c, d in REVIEW_REASONS.items()])


@staff_router.get("/audit", response_model=AuditPage)
async def audit_log(
    staff: Approver,
    store: Store,
    clock: AppClock,
    subject: Annotated[str, Query(min_length=3, max_length=200)],
    limit: Limit = 20,
    next_token: NextToken = None,
) -> AuditPage:
    """A subject's audit records, newest first (approvers only)."""
    return await service.audit_log(_store(store), clock, staff, subject=subject, limit=limit, next_token=next_token)


@shopper_router.post("/{application_id}/review-requests", status_code=201, response_model=ReviewStatus)
async def request_review(
    application_id: str,
    body: ReviewRequestInput,
    customer: CurrentCustomer,
    store: Store,
    clock: AppClock,
    reviews: Reviews,
) -> ReviewStatus:
    """Ask a person to look again at a decline (once per application), or answer a request for information."""
    return await service.request_review(
        _store(store), clock, reviews.rules, customer.sub, application_id=application_id, statement=body.statement
    )


@shopper_router.get("/{application_id}/review", response_model=ReviewStatus | None)
async def review_status(
    application_id: str, customer: CurrentCustomer, store: Store, clock: AppClock, reviews: Reviews
) -> ReviewStatus | None:
    """The review of one of the caller's applications (null when there is none)."""
    return await service.review_status(_store(store), clock, reviews.rules, customer.sub, application_id=application_id)
