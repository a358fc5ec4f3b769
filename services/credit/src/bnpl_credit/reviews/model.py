"""Review cases: a person looks again at a REFERRED decision, or at a decline the shopper
contests. Nothing here does I/O.

A case moves OPEN -> (INFO_REQUESTED -> OPEN)* -> APPROVED | DECLINED, or through
AWAITING_SECOND_APPROVAL when four eyes are needed (approving what the model declined, or an
amount above the configured limit): then an approver who is not the first reviewer confirms.
A case still undecided when its time runs out (``opened_at + ttl``) is EXPIRED. Each method
returns the next case with ``version + 1``; the store writes it only over ``version``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from bnpl_common.errors import Conflict, Forbidden

from bnpl_credit.decision.engine import DecisionStatus
from bnpl_credit.decision.policy import PlanTypeName


class CaseStatus(StrEnum):
    OPEN = "OPEN"
    INFO_REQUESTED = "INFO_REQUESTED"
    AWAITING_SECOND_APPROVAL = "AWAITING_SECOND_APPROVAL"
    APPROVED = "APPROVED"
    DECLINED = "DECLINED"
    EXPIRED = "EXPIRED"


LIVE_STATUSES = (CaseStatus.OPEN, CaseStatus.INFO_REQUESTED, CaseStatus.AWAITING_SECOND_APPROVAL)


class CaseOrigin(StrEnum):
    REFERRAL = "REFERRAL"  # the decision was REFERRED
    CONTESTED = "CONTESTED"  # the shopper asked a person to look at a decline


class ReviewAction(StrEnum):
    APPROVE = "APPROVE"
    DECLINE = "DECLINE"
    REQUEST_INFO = "REQUEST_INFO"


class InvalidCaseState(Conflict):
    error_type = "InvalidCaseState"


class FourEyesViolation(Forbidden):
    error_type = "FourEyesViolation"


@dataclass(frozen=True, slots=True)
class Proposal:
    """What the first reviewer decided (kept on the case: it becomes the outcome)."""

    action: ReviewAction
    reviewer: str  # the reviewer's ``sub``
    decided_at: datetime
    amount: int | None  # APPROVE: minor units of the case's currency
    plan_type: PlanTypeName | None
    reasons: tuple[str, ...]  # DECLINE: reason codes from the catalogue
    note: str | None


@dataclass(frozen=True, slots=True)
class ReviewCase:
    id: str
    application_id: str
    customer_id: str
    origin: CaseOrigin
    status: CaseStatus
    opened_at: datetime
    original_status: DecisionStatus
    amount: int  # what the shopper asked, minor units
    currency: str
    plan_type: PlanTypeName
    statement: str | None = None
    info_request: str | None = None
    proposal: Proposal | None = None
    second_approver: str | None = None
    closed_at: datetime | None = None
    version: int = 1

    @classmethod
    def open(
        cls,
        *,
        application_id: str,
        customer_id: str,
        origin: CaseOrigin,
        original_status: DecisionStatus,
        amount: int,
        currency: str,
        plan_type: PlanTypeName,
        now: datetime,
        statement: str | None = None,
    ) -> ReviewCase:
        return cls(
            id=f"case_{uuid.uuid4().hex}",
            application_id=application_id,
            customer_id=customer_id,
            origin=origin,
            status=CaseStatus.OPEN,
            opened_at=now,
            original_status=original_status,
            amount=amount,
            currency=currency,
            plan_type=plan_type,
            statement=statement,
        )

    def expires_at(self, ttl: timedelta) -> datetime:
        return self.opened_at + ttl

    def status_at(self, now: datetime, ttl: timedelta) -> CaseStatus:
        """A live case past its time reads as EXPIRED (the sweeper writes it back)."""
        if self.status in LIVE_STATUSES and self.expires_at(ttl) <= now:
            return CaseStatus.EXPIRED
        return self.status

    def _next(self, **changes: object) -> ReviewCase:
        return replace(self, version=self.version + 1, **changes)  # type: ignore[arg-type]

    def _require(self, now: datetime, ttl: timedelta, *allowed: CaseStatus) -> None:
        status = self.status_at(now, ttl)
        if status not in allowed:
            raise InvalidCaseState(f"a case that is {status} cannot take this action", field="caseId")

    def needs_four_eyes(self, amount: int, four_eyes_amount: int) -> bool:
        return self.original_status is DecisionStatus.DECLINED or amount > four_eyes_amount

    def decide(self, proposal: Proposal, *, now: datetime, ttl: timedelta, four_eyes_amount: int) -> ReviewCase:
        """The first reviewer's decision."""
        self._require(now, ttl, CaseStatus.OPEN, CaseStatus.INFO_REQUESTED)
        if proposal.action is ReviewAction.REQUEST_INFO:
            return self._next(status=CaseStatus.INFO_REQUESTED, info_request=proposal.note)
        if proposal.action is ReviewAction.DECLINE:
            return self._next(status=CaseStatus.DECLINED, proposal=proposal, closed_at=now)
        assert proposal.amount is not None
        if self.needs_four_eyes(proposal.amount, four_eyes_amount):
            return self._next(status=CaseStatus.AWAITING_SECOND_APPROVAL, proposal=proposal)
        return self._next(status=CaseStatus.APPROVED, proposal=proposal, closed_at=now)

    def confirm(self, approver: str, *, now: datetime, ttl: timedelta) -> ReviewCase:
        """The second pair of eyes: an approver who is not the first reviewer."""
        self._require(now, ttl, CaseStatus.AWAITING_SECOND_APPROVAL)
        assert self.proposal is not None
        if approver == self.proposal.reviewer:
            raise FourEyesViolation("the second approval must come from someone else", field="caseId")
        return self._next(status=CaseStatus.APPROVED, second_approver=approver, closed_at=now)

    def answer(self, statement: str, *, now: datetime, ttl: timedelta) -> ReviewCase:
        """The shopper's answer to a request for information: back to the queue."""
        self._require(now, ttl, CaseStatus.INFO_REQUESTED)
        text = f"{self.statement}\n\n{statement}" if self.statement else statement
        return self._next(status=CaseStatus.OPEN, statement=text)

    def expire(self, *, now: datetime, ttl: timedelta) -> ReviewCase:
        if self.status not in LIVE_STATUSES or self.expires_at(ttl) > now:
            raise InvalidCaseState("only a live case past its time expires", field="caseId")
        return self._next(status=CaseStatus.EXPIRED, closed_at=now)


@dataclass(frozen=True, slots=True)
class ReviewDecision:
    """The outcome of a review as a new decision record, linked to the original one (which
    stays as it was): written once, never changed."""

    id: str
    case_id: str
    application_id: str
    customer_id: str
    decided_at: datetime
    status: DecisionStatus
    original_status: DecisionStatus
    amount: int
    currency: str
    plan_type: PlanTypeName
    reasons: tuple[str, ...]
    deciders: tuple[str, ...]
    note: str | None
