"""Staff roles from the access token's ``cognito:groups``: ``operations`` reviews,
``operations-risk`` approves (and does everything a reviewer does). A shopper's token carries
no group; a staff token is refused on every shopper route and a shopper's on every staff route."""

from __future__ import annotations

from enum import StrEnum

from bnpl_common.errors import Forbidden
from bnpl_common.jwt import Principal

REVIEWER_GROUP = "operations"
APPROVER_GROUP = "operations-risk"
STAFF_GROUPS = frozenset({REVIEWER_GROUP, APPROVER_GROUP})


class Role(StrEnum):
    REVIEWER = "REVIEWER"
    APPROVER = "APPROVER"


class StaffOnly(Forbidden):
    error_type = "AccessDeniedException"


def is_staff(principal: Principal) -> bool:
    return bool(STAFF_GROUPS & set(principal.groups))


def require_role(principal: Principal, role: Role) -> Principal:
    groups = set(principal.groups)
    allowed = {APPROVER_GROUP} if role is Role.APPROVER else STAFF_GROUPS
    if not allowed & groups:
        raise StaffOnly(f"this operation needs the {role.lower()} role", field="authorization")
    return principal


def refuse_staff(principal: Principal) -> Principal:
    if is_staff(principal):
        raise StaffOnly("a staff token cannot act as a shopper", field="authorization")
    return principal
