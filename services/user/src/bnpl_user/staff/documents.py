"""The stored JSON form of a staff audit record (both adapters)."""

from __future__ import annotations

from typing import Any

from bnpl_common.timefmt import format_instant, parse_instant

from bnpl_user.staff.model import StaffAction, StaffAuditRecord


def audit_doc(record: StaffAuditRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "at": format_instant(record.at),
        "actor": record.actor,
        "actorGroups": list(record.actor_groups),
        "action": str(record.action),
        "customerIds": list(record.customer_ids),
        "reason": record.reason,
        "caseId": record.case_id,
        "details": record.details,
    }


def audit_from_doc(doc: dict[str, Any]) -> StaffAuditRecord:
    return StaffAuditRecord(
        id=doc["id"],
        at=parse_instant(doc["at"]),
        actor=doc["actor"],
        actor_groups=tuple(doc["actorGroups"]),
        action=StaffAction(doc["action"]),
        customer_ids=tuple(doc["customerIds"]),
        reason=doc.get("reason"),
        case_id=doc.get("caseId"),
        details=dict(doc.get("details") or {}),
    )
