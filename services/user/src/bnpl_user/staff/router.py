"""``/v1/staff/customers``: staff reads of profiles (a staff token's ``cognito:groups``; the
gateway signs every call). Shopper tokens are refused here, as staff tokens are on ``/v1/profile``."""

from __future__ import annotations

from typing import Annotated

from bnpl_common.errors import ERROR_RESPONSES, Forbidden
from bnpl_common.jwt import Principal
from fastapi import APIRouter, Depends, Query, Request

from bnpl_user.deps import AppClock, Otp, Store
from bnpl_user.profiles.schemas import Customer, PhoneNumber
from bnpl_user.staff import service
from bnpl_user.staff.schemas import CustomerMatches, ProfileViewInput, StaffAuditPage

REVIEWER_GROUP = "operations"
APPROVER_GROUP = "operations-risk"

router = APIRouter(prefix="/v1/staff/customers", tags=["staff"], responses=ERROR_RESPONSES)


async def _staff(request: Request, groups: frozenset[str]) -> Principal:
    principal: Principal = await request.app.state.authenticator(request)
    if not groups & set(principal.groups):
        raise Forbidden("this operation needs a staff role", field="authorization")
    return principal


async def _reviewer(request: Request) -> Principal:
    return await _staff(request, frozenset({REVIEWER_GROUP, APPROVER_GROUP}))


async def _approver(request: Request) -> Principal:
    return await _staff(request, frozenset({APPROVER_GROUP}))


Reviewer = Annotated[Principal, Depends(_reviewer)]
Approver = Annotated[Principal, Depends(_approver)]
CustomerId = Annotated[str, Query(alias="customerId", min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]


@router.get("", response_model=CustomerMatches)
async def lookup(
    staff: Reviewer,
    store: Store,
    clock: AppClock,
    otp: Otp,
    email: Annotated[str | None, Query(min_length=3, max_length=254)] = None,
    phone: Annotated[PhoneNumber | None, Query()] = None,
    customer_id: Annotated[str | None, Query(alias="customerId", max_length=128, pattern=r"^[A-Za-z0-9_-]+$")] = None,
) -> CustomerMatches:
    """Customers by e-mail, verified phone number or id, masked (the lookup is audited)."""
    items = await service.lookup(
        store, clock, staff, pepper=otp.pepper, email=email, phone=phone, customer_id=customer_id
    )
    return CustomerMatches(items=items)


@router.post("/{customer_id}/profile-views", status_code=201, response_model=Customer)
async def view_profile(
    customer_id: str, body: ProfileViewInput, staff: Reviewer, store: Store, clock: AppClock
) -> Customer:
    """The full profile, for a stated reason (the view is audited)."""
    return await service.view_profile(
        store, clock, staff, customer_id=customer_id, reason=body.reason, case_id=body.case_id
    )


@router.get("/{customer_id}/profile-views", response_model=StaffAuditPage)
async def profile_audit(
    customer_id: str,
    staff: Approver,
    store: Store,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    next_token: Annotated[str | None, Query(alias="nextToken", min_length=1, max_length=300)] = None,
) -> StaffAuditPage:
    """Who looked the customer up or read the profile, newest first, paged (approvers)."""
    return await service.audit_of(store, customer_id=customer_id, limit=limit, next_token=next_token)
