"""Audit records: who did or saw what, when, why and from which case. Written once, in the
same transaction as the change they record, and never changed (both adapters refuse it)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class AuditAction(StrEnum):
    CASE_VIEWED = "case.viewed"
    CASE_DECIDED = "case.decided"
    CASE_SECOND_APPROVAL = "case.second_approval"
    CASE_INFO_REQUESTED = "case.info_requested"
    CASE_INFO_ANSWERED = "case.info_answered"  # the shopper's answer (actor: the shopper's sub)
    CASE_OPENED = "case.opened"
    CASE_EXPIRED = "case.expired"
    AUDIT_VIEWED = "audit.viewed"
    CUSTOMER_VIEWED = "customer.viewed"  # a customer's applications and plans (staff.service)
    PLAN_VIEWED = "plan.viewed"  # a plan with its payments and refunds
    LATE_FEE_WAIVED = "plan.late_fee_waived"  # plans.waivers, with the reason given
    MERCHANT_CREATED = "merchant.created"  # staff.merchants: never a secret in the record
    MERCHANT_SUSPENDED = "merchant.suspended"
    MERCHANT_ACTIVATED = "merchant.activated"
    MERCHANT_ORIGINS_CHANGED = "merchant.origins_changed"
    MERCHANT_WEBHOOK_URL_CHANGED = "merchant.webhook_url_changed"
    MERCHANT_KEY_ROTATED = "merchant.key_rotated"
    MERCHANT_WEBHOOK_SECRET_ROTATED = "merchant.webhook_secret_rotated"  # noqa: S105 - an action name


SYSTEM_ACTOR = "system"


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One staff action or view. ``subjects`` are what it is filed under (``case:<id>``,
    ``application:<id>``, ``customer:<sub>``): ``auditLog(subject)`` reads by any of them."""

    id: str
    at: datetime
    actor: str  # the staff member's ``sub`` (``system`` for the expiry sweeper, the shopper's for an answer)
    actor_groups: tuple[str, ...]
    action: AuditAction
    subjects: tuple[str, ...]
    case_id: str | None
    reason: str | None  # why: the reviewer's note, or the reason given to open personal data
    details: Mapping[str, object]

    @classmethod
    def new(
        cls,
        *,
        at: datetime,
        actor: str,
        actor_groups: tuple[str, ...],
        action: AuditAction,
        subjects: tuple[str, ...],
        case_id: str | None = None,
        reason: str | None = None,
        details: Mapping[str, object] | None = None,
    ) -> AuditRecord:
        return cls(str(uuid.uuid4()), at, actor, actor_groups, action, subjects, case_id, reason, dict(details or {}))


def case_subject(case_id: str) -> str:
    return f"case:{case_id}"


def application_subject(application_id: str) -> str:
    return f"application:{application_id}"


def merchant_subject(merchant_id: str) -> str:
    return f"merchant:{merchant_id}"


def plan_subject(plan_id: str) -> str:
    return f"plan:{plan_id}"


def customer_subject(customer_id: str) -> str:
    return f"customer:{customer_id}"
