"""Request and response shapes of the staff routes (``/v1/staff/...``) and of a shopper's
review request."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from bnpl_credit.schemas import CamelModel, InputModel, Money, MoneyInput, PlanType, ReasonOut

Note = Annotated[str, Field(min_length=1, max_length=2000)]
CaseStatusName = Literal["OPEN", "INFO_REQUESTED", "AWAITING_SECOND_APPROVAL", "APPROVED", "DECLINED", "EXPIRED"]


class ReviewRequestInput(InputModel):
    statement: Note


class DecideInput(InputModel):
    decision: Literal["APPROVE", "DECLINE", "REQUEST_INFO"]
    note: Note | None = None
    reasons: Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(max_length=4)] | None = None
    amount: MoneyInput | None = None
    plan_type: PlanType | None = None


class ReviewStatus(CamelModel):
    """What the shopper sees of a review of their application."""

    case_id: str
    status: CaseStatusName
    opened_at: datetime
    expires_at: datetime
    info_request: str | None
    closed_at: datetime | None


class ProposalOut(CamelModel):
    decision: Literal["APPROVE", "DECLINE", "REQUEST_INFO"]
    reviewer: str
    decided_at: datetime
    amount: Money | None
    plan_type: PlanType | None
    reasons: list[str]
    note: str | None


class CaseSummary(CamelModel):
    id: str
    application_id: str
    customer_id: str
    origin: Literal["REFERRAL", "CONTESTED"]
    status: CaseStatusName
    opened_at: datetime
    expires_at: datetime
    age_seconds: int
    original_decision: Literal["APPROVED", "DECLINED", "REFERRED"]
    amount: Money
    plan_type: PlanType
    merchant_id: str | None = None
    needs_four_eyes: bool
    proposal: ProposalOut | None
    second_approver: str | None
    closed_at: datetime | None
    version: int


class CasePage(CamelModel):
    items: list[CaseSummary]
    next_token: str | None


class DecisionSeen(CamelModel):
    """What the original decision saw and produced (its immutable record), for the reviewer:
    the model's inputs as scored, score, PD, reasons, versions, the policy rules that fired
    and the customer's history. No name, address or phone number: the task needs none."""

    decided_at: datetime
    status: str
    features: dict[str, Any]
    feature_mapping_version: str
    score: int | None
    pd: float | None
    risk_grade: str | None
    scorer_failure: str | None
    reasons: list[ReasonOut]
    policy_rules_fired: list[str]
    model_version: str | None
    policy_version: str
    history: dict[str, Any]
    monthly_income: Money | None
    monthly_expenses: Money | None


class ReviewOutcome(CamelModel):
    id: str
    status: Literal["APPROVED", "DECLINED", "REFERRED"]
    decided_at: datetime
    amount: Money
    plan_type: PlanType
    reasons: list[str]
    deciders: list[str]
    note: str | None
    original_decision: Literal["APPROVED", "DECLINED", "REFERRED"]


class CaseDetail(CaseSummary):
    statement: str | None
    info_request: str | None
    application_status: str
    decision: DecisionSeen | None
    outcome: ReviewOutcome | None


class AuditEntry(CamelModel):
    id: str
    at: datetime
    actor: str
    actor_groups: list[str]
    action: str
    subjects: list[str]
    case_id: str | None
    reason: str | None
    details: dict[str, Any]


class AuditPage(CamelModel):
    items: list[AuditEntry]
    next_token: str | None


class ReasonCatalogue(CamelModel):
    items: list[ReasonOut]


class DashboardOut(CamelModel):
    generated_at: datetime
    by_status: dict[str, int]
    capped: list[str]
    oldest_live_age_seconds: int | None
    median_live_age_seconds: int | None
    opened_today: dict[str, int]
    closed_today: dict[str, int]
    decisions_today: dict[str, int] = Field(description="credit decisions made today (UTC) by outcome, platform-wide")
    live_by_age: dict[str, int] = Field(description="waiting cases by age: under 1 hour, 1-4 h, 4-24 h, over 24 h")
    referral_rate: float | None = Field(description="REFERRED / all decisions today; null before the first")
