"""Staff reads of profiles. A lookup shows masked matches; the full profile is shown only with a
reason. Each read is written to the audit log before anything is shown: no record, no data."""

from __future__ import annotations

from typing import Protocol

from bnpl_common.clock import Clock
from bnpl_common.errors import NotFound, ValidationFailed
from bnpl_common.jwt import Principal

from bnpl_user.profiles.model import Profile
from bnpl_user.profiles.schemas import Customer
from bnpl_user.staff.cursor import decode, encode
from bnpl_user.staff.model import StaffAction, StaffAuditCursor, StaffAuditRecord
from bnpl_user.staff.port import StaffStore
from bnpl_user.staff.schemas import CustomerMatch, StaffAuditOut, StaffAuditPage
from bnpl_user.verification.port import VerificationStore
from bnpl_user.verification.service import destination_key

MAX_MATCHES = 20


class LookupStore(StaffStore, VerificationStore, Protocol): ...


class CustomerNotFound(NotFound):
    error_type = "CustomerNotFound"


async def _by_phone(store: LookupStore, pepper: str, phone: str) -> list[Profile]:
    """The account that holds ``phone`` verified (numbers are looked up by their HMAC only)."""
    owner = await store.number_owner(destination_key(pepper, phone))
    if owner is None:
        return []
    profile = await store.get_profile(owner.sub)
    if profile is None or not profile.phone_verified or profile.details.phone_number != phone:
        return []
    return [profile]


async def lookup(
    store: LookupStore,
    clock: Clock,
    staff: Principal,
    *,
    pepper: str,
    email: str | None = None,
    phone: str | None = None,
    customer_id: str | None = None,
) -> list[CustomerMatch]:
    """Customers by exactly one of e-mail, verified phone number or id; masked, and audited."""
    given = {k: v for k, v in (("email", email), ("phone", phone), ("customerId", customer_id)) if v}
    if len(given) != 1:
        raise ValidationFailed("look up by exactly one of email, phone or customerId", field="email")
    if email:
        found = await store.profiles_by_email(email.strip().lower(), limit=MAX_MATCHES)
    elif phone:
        found = await _by_phone(store, pepper, phone.strip())
    else:
        assert customer_id is not None
        profile = await store.get_profile(customer_id)
        found = [profile] if profile is not None else []
    await store.append_staff_audit(
        StaffAuditRecord.new(
            at=clock.now(),
            actor=staff.sub,
            actor_groups=staff.groups,
            action=StaffAction.PROFILES_SEARCHED,
            customer_ids=tuple(p.sub for p in found),
            details={"by": next(iter(given)), "matches": len(found)},  # what was typed stays out
        )
    )
    return [CustomerMatch.of(p) for p in found]


async def view_profile(
    store: LookupStore, clock: Clock, staff: Principal, *, customer_id: str, reason: str, case_id: str | None
) -> Customer:
    """The full profile, for a stated reason (recorded with who asked and from which case)."""
    profile = await store.get_profile(customer_id)
    if profile is None:
        raise CustomerNotFound("no such customer", field="customerId")
    await store.append_staff_audit(
        StaffAuditRecord.new(
            at=clock.now(),
            actor=staff.sub,
            actor_groups=staff.groups,
            action=StaffAction.PROFILE_VIEWED,
            customer_ids=(customer_id,),
            reason=reason,
            case_id=case_id,
        )
    )
    return Customer.from_profile(profile)


async def audit_of(
    store: LookupStore, *, customer_id: str, limit: int, next_token: str | None = None
) -> StaffAuditPage:
    """Who read the customer's profile (approvers), newest first, a page at a time."""
    after = decode(next_token) if next_token else None
    found = await store.list_staff_audit(customer_id, limit=limit + 1, after=after)
    page = found[:limit]
    token = encode(StaffAuditCursor(page[-1].at, page[-1].id)) if len(found) > limit else None
    return StaffAuditPage(items=[StaffAuditOut.of(r) for r in page], next_token=token)
