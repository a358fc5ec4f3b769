"""Audit records of staff reads of profiles. Nothing here does I/O."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class StaffAction(StrEnum):
    PROFILES_SEARCHED = "profile.searched"  # a lookup: masked results only
    PROFILE_VIEWED = "profile.viewed"  # the full profile, asked for with a reason


@dataclass(frozen=True, slots=True)
class StaffAuditRecord:
    """Who read which customers' profiles, when, why (and from which case)."""

    id: str
    at: datetime
    actor: str
    actor_groups: tuple[str, ...]
    action: StaffAction
    customer_ids: tuple[str, ...]
    reason: str | None = None
    case_id: str | None = None
    details: dict[str, object] = field(default_factory=dict)

    @classmethod
    def new(
        cls,
        *,
        at: datetime,
        actor: str,
        actor_groups: tuple[str, ...],
        action: StaffAction,
        customer_ids: tuple[str, ...],
        reason: str | None = None,
        case_id: str | None = None,
        details: dict[str, object] | None = None,
    ) -> StaffAuditRecord:
        return cls(str(uuid.uuid4()), at, actor, actor_groups, action, customer_ids, reason, case_id, details or {})


@dataclass(frozen=True, slots=True)
class StaffAuditCursor:
    """Where a page of a customer's records ended: the last record's time and id (newest first)."""

    at: datetime
    record_id: str


def mask_email(email: str | None) -> str | None:
    """``ana.lopez@example.com`` -> ``a***@example.com``: enough to tell two customers apart."""
    if not email or "@" not in email:
        return None
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_phone(phone: str) -> str:
    """``+34600000001`` -> ``+34*******001``."""
    return phone[:3] + "*" * max(len(phone) - 6, 0) + phone[-3:] if len(phone) > 6 else "***"
