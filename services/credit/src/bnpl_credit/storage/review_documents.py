"""The stored JSON documents of review cases, review decisions and audit records (both adapters)."""

from __future__ import annotations

from bnpl_common.timefmt import format_instant, parse_instant

from bnpl_credit.audit.model import AuditAction, AuditRecord
from bnpl_credit.decision.engine import DecisionStatus
from bnpl_credit.decision.policy import PLAN_TYPES, PlanTypeName
from bnpl_credit.reviews.model import CaseOrigin, CaseStatus, Proposal, ReviewAction, ReviewCase, ReviewDecision
from bnpl_credit.storage.documents import Doc

_PLAN_TYPES: dict[str, PlanTypeName] = {name: name for name in PLAN_TYPES}


def _proposal_doc(p: Proposal | None) -> Doc | None:
    if p is None:
        return None
    return {
        "action": str(p.action),
        "reviewer": p.reviewer,
        "decidedAt": format_instant(p.decided_at),
        "amount": p.amount,
        "planType": p.plan_type,
        "reasons": list(p.reasons),
        "note": p.note,
    }


def _proposal(doc: Doc | None) -> Proposal | None:
    if doc is None:
        return None
    return Proposal(
        action=ReviewAction(doc["action"]),
        reviewer=doc["reviewer"],
        decided_at=parse_instant(doc["decidedAt"]),
        amount=doc.get("amount"),
        plan_type=_PLAN_TYPES[doc["planType"]] if doc.get("planType") else None,
        reasons=tuple(doc.get("reasons") or ()),
        note=doc.get("note"),
    )


def case_doc(case: ReviewCase) -> Doc:
    return {
        "id": case.id,
        "applicationId": case.application_id,
        "customerId": case.customer_id,
        "origin": str(case.origin),
        "status": str(case.status),
        "openedAt": format_instant(case.opened_at),
        "originalStatus": str(case.original_status),
        "amount": case.amount,
        "currency": case.currency,
        "planType": case.plan_type,
        "statement": case.statement,
        "infoRequest": case.info_request,
        "proposal": _proposal_doc(case.proposal),
        "secondApprover": case.second_approver,
        "closedAt": format_instant(case.closed_at) if case.closed_at else None,
    }


def case_from_doc(doc: Doc, version: int) -> ReviewCase:
    return ReviewCase(
        id=doc["id"],
        application_id=doc["applicationId"],
        customer_id=doc["customerId"],
        origin=CaseOrigin(doc["origin"]),
        status=CaseStatus(doc["status"]),
        opened_at=parse_instant(doc["openedAt"]),
        original_status=DecisionStatus(doc["originalStatus"]),
        amount=int(doc["amount"]),
        currency=doc["currency"],
        plan_type=_PLAN_TYPES[doc["planType"]],
        statement=doc.get("statement"),
        info_request=doc.get("infoRequest"),
        proposal=_proposal(doc.get("proposal")),
        second_approver=doc.get("secondApprover"),
        closed_at=parse_instant(doc["closedAt"]) if doc.get("closedAt") else None,
        version=version,
    )


def review_decision_doc(d: ReviewDecision) -> Doc:
    return {
        "id": d.id,
        "caseId": d.case_id,
        "applicationId": d.application_id,
        "customerId": d.customer_id,
        "decidedAt": format_instant(d.decided_at),
        "status": str(d.status),
        "originalStatus": str(d.original_status),
        "amount": d.amount,
        "currency": d.currency,
        "planType": d.plan_type,
        "reasons": list(d.reasons),
        "deciders": list(d.deciders),
        "note": d.note,
    }


def review_decision_from_doc(doc: Doc) -> ReviewDecision:
    return ReviewDecision(
        id=doc["id"],
        case_id=doc["caseId"],
        application_id=doc["applicationId"],
        customer_id=doc["customerId"],
        decided_at=parse_instant(doc["decidedAt"]),
        status=DecisionStatus(doc["status"]),
        original_status=DecisionStatus(doc["originalStatus"]),
        amount=int(doc["amount"]),
        currency=doc["currency"],
        plan_type=_PLAN_TYPES[doc["planType"]],
        reasons=tuple(doc["reasons"]),
        deciders=tuple(doc["deciders"]),
        note=doc.get("note"),
    )


def audit_doc(r: AuditRecord) -> Doc:
    return {
        "id": r.id,
        "at": format_instant(r.at),
        "actor": r.actor,
        "actorGroups": list(r.actor_groups),
        "action": str(r.action),
        "subjects": list(r.subjects),
        "caseId": r.case_id,
        "reason": r.reason,
        "details": dict(r.details),
    }


def audit_from_doc(doc: Doc) -> AuditRecord:
    return AuditRecord(
        id=doc["id"],
        at=parse_instant(doc["at"]),
        actor=doc["actor"],
        actor_groups=tuple(doc["actorGroups"]),
        action=AuditAction(doc["action"]),
        subjects=tuple(doc["subjects"]),
        case_id=doc.get("caseId"),
        reason=doc.get("reason"),
        details=doc.get("details") or {},
    )
