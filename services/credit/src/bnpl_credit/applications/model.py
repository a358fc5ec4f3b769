"""Credit applications as records: the order, the decided application and its immutable
decision record. Nothing here does I/O; storage adapters and HTTP schemas map these to JSON.

An application's ``status`` moves only APPROVED -> CONFIRMED | CANCELLED | EXPIRED, through
the methods below; every other field is fixed when the decision is made.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from bnpl_credit.credit_line.model import CustomerHistory
from bnpl_credit.decision.engine import DecisionStatus, Reason
from bnpl_credit.decision.policy import PlanTypeName
from bnpl_credit.decision.schedule import Schedule
from bnpl_credit.errors import InvalidApplicationState
from bnpl_credit.scoring.port import FeatureRow, ScoreResult


class ApplicationStatus(StrEnum):
    APPROVED = "APPROVED"
    DECLINED = "DECLINED"
    REFERRED = "REFERRED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    CONFIRMED = "CONFIRMED"


@dataclass(frozen=True, slots=True)
class Order:
    """The merchant order a shopper asks to pay later (from the checkout link)."""

    merchant_id: str
    order_reference: str
    amount: int  # minor units of ``currency``
    currency: str
    plan_type: PlanTypeName


@dataclass(frozen=True, slots=True)
class Offer:
    """The plan an approval would create: the schedule of ``order.plan_type`` in ``currency``."""

    plan_type: PlanTypeName
    currency: str
    schedule: Schedule

    @property
    def apr(self) -> float:
        """The nominal rate in percent, e.g. 19.99 (the disclosed one is ``schedule.rate``)."""
        return self.schedule.apr_basis_points / 100


@dataclass(frozen=True, slots=True)
class AdverseActionNotice:
    """What a declined shopper is told (ECOA / Reg B 12 CFR 1002.9): always a decline."""

    date: date
    reasons: tuple[Reason, ...]
    score: int | None
    text: str
    action: DecisionStatus = DecisionStatus.DECLINED


@dataclass(frozen=True, slots=True)
class Application:
    id: str
    customer_id: str
    status: ApplicationStatus
    decision: DecisionStatus
    order: Order
    hold: int | None  # what an approval reserves on the credit line (its plan's total of payments)
    created_at: datetime
    expires_at: datetime | None  # end of an approval's hold
    score: int | None  # None: the scorer failed
    risk_grade: str | None
    pd: float | None
    reasons: tuple[Reason, ...]
    notice: AdverseActionNotice | None
    offer: Offer | None
    model_version: str | None
    policy_version: str
    plan_id: str | None = None
    cancelled_at: datetime | None = None
    confirmed_at: datetime | None = None
    expired_at: datetime | None = None

    @property
    def held_amount(self) -> int:
        """The hold, for applications stored before it was recorded: the order's amount."""
        return self.hold if self.hold is not None else self.order.amount

    def hold_ended(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def status_at(self, now: datetime) -> ApplicationStatus:
        """An approval not confirmed within its hold time reads as EXPIRED."""
        if self.status is ApplicationStatus.APPROVED and self.hold_ended(now):
            return ApplicationStatus.EXPIRED
        return self.status

    def holds_credit_at(self, now: datetime) -> bool:
        if self.status is ApplicationStatus.REFERRED:
            return self.hold is not None  # held while its review case is open (issue 13)
        return self.status is ApplicationStatus.APPROVED and self.expires_at is not None and not self.hold_ended(now)

    def _leave_approved(self, to: ApplicationStatus, now: datetime, *, field: str) -> Application:
        status = self.status_at(now)
        if status is not ApplicationStatus.APPROVED:
            raise InvalidApplicationState(
                f"an application that is {status} cannot be {_VERB[to]}", field=field, info={"status": status}
            )
        return replace(self, status=to)

    def cancel(self, now: datetime) -> Application:
        """Withdrawn before its hold ended (the store writes it only if still APPROVED and unexpired)."""
        return replace(self._leave_approved(ApplicationStatus.CANCELLED, now, field="id"), cancelled_at=now)

    def offer_to_confirm(self, now: datetime) -> Offer:
        """The offer a confirmation turns into a plan: an approval's, while it holds."""
        self._leave_approved(ApplicationStatus.CONFIRMED, now, field="applicationId")
        if self.offer is None:
            raise InvalidApplicationState("this approval has no offer to confirm", field="applicationId")
        return self.offer

    def confirm(self, plan_id: str, now: datetime) -> Application:
        """Confirmed into plan ``plan_id`` before its hold ended."""
        self.offer_to_confirm(now)
        moved = self._leave_approved(ApplicationStatus.CONFIRMED, now, field="applicationId")
        return replace(moved, plan_id=plan_id, confirmed_at=now)

    def expire(self, now: datetime) -> Application:
        """Written back as EXPIRED by the sweeper once its hold ended."""
        if self.status is not ApplicationStatus.APPROVED or not self.hold_ended(now):
            raise InvalidApplicationState("only an approval past its hold expires", field="id")
        return replace(self, status=ApplicationStatus.EXPIRED, expired_at=now)


_VERB = {
    ApplicationStatus.CANCELLED: "cancelled",
    ApplicationStatus.CONFIRMED: "confirmed",
}


@dataclass(frozen=True, slots=True)
class HistoryFacts:
    """The customer's history as a decision saw it (kept in its record)."""

    late_installments: int
    open_plans_outstanding: int
    held_approvals: int
    credit_limit: int | None
    credit_line_currency: str | None

    @classmethod
    def of(cls, history: CustomerHistory) -> HistoryFacts:
        account = history.account
        return cls(
            late_installments=history.late_installments,
            open_plans_outstanding=history.open_plans_outstanding,
            held_approvals=history.held_approvals,
            credit_limit=account.credit_limit if account else None,
            credit_line_currency=account.currency if account else None,
        )


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """Everything a decision saw and produced, written once and never changed: the inputs
    (order, the profile as the gateway sent it, the customer's history, the model's input
    row), the score or the scorer's failure class, the outcome and the versions."""

    application_id: str
    customer_id: str
    decided_at: datetime
    status: DecisionStatus
    order: Order
    # kept verbatim as received: the record proves what the decision was based on
    profile: Mapping[str, object]
    history: HistoryFacts
    features: FeatureRow
    feature_mapping_version: str
    score: ScoreResult | None
    scorer_failure: str | None
    reasons: tuple[Reason, ...]
    notice: AdverseActionNotice | None
    offer: Offer | None
    hold: int | None
    expires_at: datetime | None
    new_credit_limit: int | None
    policy_version: str
    shadow: ScoreResult | None = None  # a challenger's score (shadow scoring), never used
