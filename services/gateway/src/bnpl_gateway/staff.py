"""The staff side of the GraphQL API: the review queue, a case, its decisions, the audit log;
and the shopper's ``requestHumanReview``. Who may call which is ``roles.RoleGuard``'s business."""

from __future__ import annotations

import datetime as dt
import json
from enum import Enum
from typing import Annotated, Any

import strawberry

from bnpl_gateway.context import GatewayContext
from bnpl_gateway.convert import build, to_json
from bnpl_gateway.errors import GatewayError
from bnpl_gateway.review_status import ReviewCaseStatus, ReviewStatus
from bnpl_gateway.types import DecisionStatus, Money, MoneyInput, PlanType, Reason
from bnpl_gateway.upstream import NotFoundUpstream

Info = strawberry.Info[GatewayContext, None]
DECIDE_FIELDS = {"": "input"}


@strawberry.enum
class ReviewDecisionKind(Enum):
    APPROVE = "APPROVE"
    DECLINE = "DECLINE"
    REQUEST_INFO = "REQUEST_INFO"


@strawberry.enum(description="Why the case exists.")
class ReviewOrigin(Enum):
    REFERRAL = "REFERRAL"
    CONTESTED = "CONTESTED"


@strawberry.type(description="One input of the model, as it was scored.")
class FeatureValue:
    name: str
    value: str


@strawberry.type(description="The customer's history with the platform, as the decision saw it.")
class CustomerHistoryFacts:
    late_installments: int
    open_plans_outstanding: int
    held_approvals: int
    credit_limit: int | None
    credit_line_currency: str | None


@strawberry.type(description="What the original decision saw and produced (its immutable record).")
class DecisionSeen:
    decided_at: dt.datetime
    status: DecisionStatus
    features: list[FeatureValue]
    feature_mapping_version: str
    score: int | None
    pd: float | None
    risk_grade: str | None
    scorer_failure: str | None
    reasons: list[Reason]
    policy_rules_fired: list[str]
    model_version: str | None
    policy_version: str
    history: CustomerHistoryFacts
    monthly_income: Money | None
    monthly_expenses: Money | None


@strawberry.type(description="The first reviewer's decision, awaiting or past the second pair of eyes.")
class ReviewProposal:
    decision: ReviewDecisionKind
    reviewer: str
    decided_at: dt.datetime
    amount: Money | None
    plan_type: PlanType | None
    reasons: list[str]
    note: str | None


@strawberry.type(description="A review's outcome: a new decision record linked to the original one.")
class ReviewOutcome:
    id: strawberry.ID
    status: DecisionStatus
    decided_at: dt.datetime
    amount: Money
    plan_type: PlanType
    reasons: list[str]
    deciders: list[str]
    note: str | None
    original_decision: DecisionStatus


@strawberry.type
class ReviewCase:
    id: strawberry.ID
    application_id: strawberry.ID
    customer_id: strawberry.ID
    origin: ReviewOrigin
    status: ReviewCaseStatus
    opened_at: dt.datetime
    expires_at: dt.datetime
    age_seconds: int
    original_decision: DecisionStatus
    amount: Money = strawberry.field(description="What the shopper asked for.")
    plan_type: PlanType
    merchant_id: str | None
    needs_four_eyes: bool
    proposal: ReviewProposal | None
    second_approver: str | None
    closed_at: dt.datetime | None
    version: int
    statement: str | None = strawberry.field(default=None, description="The shopper's own words (reviewCase only).")
    info_request: str | None = None
    application_status: str | None = None
    decision: DecisionSeen | None = strawberry.field(default=None, description="reviewCase only.")
    outcome: ReviewOutcome | None = None


@strawberry.type
class ReviewCaseConnection:
    items: list[ReviewCase]
    next_token: str | None


@strawberry.type(description="One audit record: who did or saw what, when, why, from which case.")
class AuditRecord:
    id: strawberry.ID
    at: dt.datetime
    actor: str
    actor_groups: list[str]
    action: str
    subjects: list[str]
    case_id: strawberry.ID | None
    reason: str | None
    details: str = strawberry.field(description="JSON text.")


@strawberry.type
class AuditConnection:
    items: list[AuditRecord]
    next_token: str | None


@strawberry.type(description="A count by a name (a status, an origin or an outcome).")
class NamedCount:
    name: str
    count: int


@strawberry.type(description="The console's dashboard: the queue by status and age, today's cases and outcomes.")
class ReviewDashboard:
    generated_at: dt.datetime
    by_status: list[NamedCount]
    capped: list[str] = strawberry.field(description="Statuses with more cases than were counted.")
    oldest_live_age_seconds: int | None
    median_live_age_seconds: int | None
    opened_today: list[NamedCount] = strawberry.field(description="Cases opened today (UTC), by origin.")
    closed_today: list[NamedCount] = strawberry.field(description="Cases closed today (UTC), by outcome.")
    decisions_today: list[NamedCount] = strawberry.field(
        description="Credit decisions made today (UTC) by outcome, the whole platform."
    )
    referral_rate: float | None = strawberry.field(description="REFERRED / all decisions today; null before the first.")
    live_by_age: list[NamedCount] = strawberry.field(
        description="Waiting cases by age: UNDER_1_HOUR, 1_TO_4_HOURS, 4_TO_24_HOURS, OVER_24_HOURS."
    )


def _counts(values: dict[str, int]) -> list[NamedCount]:
    return [NamedCount(name=k, count=v) for k, v in values.items()]


@strawberry.input
class ReviewDecisionInput:
    decision: ReviewDecisionKind
    note: str | None = strawberry.UNSET
    reasons: list[str] | None = strawberry.UNSET
    amount: MoneyInput | None = strawberry.field(
        default=strawberry.UNSET, description="APPROVE: the amount asked or less."
    )
    plan_type: PlanType | None = strawberry.UNSET


def _case(data: dict[str, Any]) -> ReviewCase:
    decision = data.get("decision")
    if isinstance(decision, dict):
        features = decision.get("features") or {}
        data = {
            **data,
            "decision": {**decision, "features": [{"name": k, "value": str(v)} for k, v in sorted(features.items())]},
        }
    return build(ReviewCase, data)


def _segment(value: str, argument: str) -> str:
    if not (0 < len(value) <= 128 and all(c.isascii() and (c.isalnum() or c in "-_") for c in value)):
        raise GatewayError("ValidationError", f"{argument} is not a valid id", info={"field": argument})
    return value


@strawberry.type
class StaffQuery:
    @strawberry.field(description="Staff: review cases with a status, oldest first.")
    async def review_queue(
        self,
        info: Info,
        status: ReviewCaseStatus = ReviewCaseStatus.OPEN,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> ReviewCaseConnection:
        ctx = info.context
        await ctx.ensure_live()  # a staff token Cognito no longer honours does nothing
        data = await ctx.upstreams.credit.call(
            "GET",
            "/v1/staff/reviews",
            token=ctx.token,
            params={"status": status.value, "limit": limit, "nextToken": next_token},
        )
        return ReviewCaseConnection(items=[_case(i) for i in data["items"]], next_token=data.get("nextToken"))

    @strawberry.field(description="Staff: one case with what its decision saw (the view is audited).")
    async def review_case(self, info: Info, id: strawberry.ID) -> ReviewCase | None:
        ctx = info.context
        await ctx.ensure_live()  # a staff token Cognito no longer honours does nothing
        try:
            data = await ctx.upstreams.credit.call("GET", f"/v1/staff/reviews/{_segment(id, 'id')}", token=ctx.token)
        except NotFoundUpstream:
            return None
        return _case(data)

    @strawberry.field(description="Staff: the queue by status and age, today's cases and outcomes.")
    async def review_dashboard(self, info: Info) -> ReviewDashboard:
        ctx = info.context
        await ctx.ensure_live()  # a staff token Cognito no longer honours does nothing
        data = await ctx.upstreams.credit.call("GET", "/v1/staff/dashboard", token=ctx.token)
        return ReviewDashboard(
            generated_at=dt.datetime.fromisoformat(data["generatedAt"]),
            by_status=_counts(data["byStatus"]),
            capped=data["capped"],
            oldest_live_age_seconds=data["oldestLiveAgeSeconds"],
            median_live_age_seconds=data["medianLiveAgeSeconds"],
            opened_today=_counts(data["openedToday"]),
            closed_today=_counts(data["closedToday"]),
            decisions_today=_counts(data["decisionsToday"]),
            referral_rate=data["referralRate"],
            live_by_age=_counts(data["liveByAge"]),
        )

    @strawberry.field(description="Staff: the reason catalogue a decline chooses from.")
    async def review_reasons(self, info: Info) -> list[Reason]:
        ctx = info.context
        await ctx.ensure_live()  # a staff token Cognito no longer honours does nothing
        data = await ctx.upstreams.credit.call("GET", "/v1/staff/review-reasons", token=ctx.token)
        return [build(Reason, r) for r in data["items"]]

    @strawberry.field(
        description="Approvers: a subject's audit records, newest first (case:<id>, customer:<sub>, ...)."
    )
    async def audit_log(
        self, info: Info, subject: str, limit: int | None = None, next_token: str | None = None
    ) -> AuditConnection:
        ctx = info.context
        await ctx.ensure_live()  # a staff token Cognito no longer honours does nothing
        data = await ctx.upstreams.credit.call(
            "GET",
            "/v1/staff/audit",
            token=ctx.token,
            params={"subject": subject, "limit": limit, "nextToken": next_token},
        )
        items = [build(AuditRecord, {**r, "details": json.dumps(r.get("details") or {})}) for r in data["items"]]
        return AuditConnection(items=items, next_token=data.get("nextToken"))


@strawberry.type
class StaffMutation:
    @strawberry.mutation(
        description="Staff: approve, decline with catalogue reasons, or ask the shopper for information."
    )
    async def decide_review(
        self, info: Info, case_id: strawberry.ID, input: ReviewDecisionInput, idempotency_key: str
    ) -> ReviewCase:
        ctx = info.context
        await ctx.ensure_live()  # a staff token Cognito no longer honours does nothing
        data = await ctx.upstreams.credit.call(
            "POST",
            f"/v1/staff/reviews/{_segment(case_id, 'caseId')}/decisions",
            token=ctx.token,
            json=to_json(input),
            idempotency_key=idempotency_key,
            field_map=DECIDE_FIELDS,
        )
        return _case(data)

    @strawberry.mutation(description="Approvers: the second pair of eyes on an approval (not the first reviewer).")
    async def approve_review(self, info: Info, case_id: strawberry.ID, idempotency_key: str) -> ReviewCase:
        ctx = info.context
        await ctx.ensure_live()  # a staff token Cognito no longer honours does nothing
        data = await ctx.upstreams.credit.call(
            "POST",
            f"/v1/staff/reviews/{_segment(case_id, 'caseId')}/approvals",
            token=ctx.token,
            json={},
            idempotency_key=idempotency_key,
        )
        return _case(data)

    @strawberry.mutation(
        description="Shoppers: ask a person to look again at a declined application (once), "
        "or answer a request for information."
    )
    async def request_human_review(
        self, info: Info, application_id: strawberry.ID, statement: Annotated[str, strawberry.argument()]
    ) -> ReviewStatus:
        ctx = info.context
        data = await ctx.upstreams.credit.call(
            "POST",
            f"/v1/applications/{_segment(application_id, 'applicationId')}/review-requests",
            token=ctx.token,
            json={"statement": statement},
            field_map={"statement": "statement"},
        )
        return build(ReviewStatus, data)
