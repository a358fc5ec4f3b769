"""The storage port of review cases and the audit log.

Every write is one transaction: the case (conditional on the version read), what its outcome
changes (the application, a new decision record, the credit line), its outbox events, its
audit records and (where given) the idempotency record land together or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bnpl_common.idempotency import StoredResponse

from bnpl_credit.applications.model import Application, ApplicationStatus
from bnpl_credit.applications.ports import Reservation
from bnpl_credit.audit.model import AuditRecord
from bnpl_credit.checkouts.ports import CheckoutWrite
from bnpl_credit.events.model import Event
from bnpl_credit.idempotency import NewIdempotency
from bnpl_credit.plans.ledger import Plan
from bnpl_credit.reviews.model import CaseStatus, ReviewCase, ReviewDecision


@dataclass(frozen=True, slots=True)
class CaseCursor:
    """Where a page of the queue (oldest first) ended."""

    opened_at: datetime
    case_id: str


@dataclass(frozen=True, slots=True)
class AuditCursor:
    """Where a page of a subject's audit records (newest first) ended."""

    at: datetime
    record_id: str


@dataclass(frozen=True, slots=True)
class ApplicationChange:
    """The application a review outcome moves, written only if it is still ``expected_status``."""

    application: Application
    expected_status: ApplicationStatus
    at: datetime  # when the outcome was decided
    reservation: Reservation | None = None  # an approval reserves on the credit line
    claim_order: bool = False  # an approval claims the merchant order until its hold ends
    checkout: CheckoutWrite | None = None  # the application's checkout session moves with it


class CaseAlreadyOpen(Exception):
    """The application has had a case already (one per application)."""


class ReviewStore(Protocol):
    async def open_case(
        self,
        case: ReviewCase,
        *,
        audit: Sequence[AuditRecord],
        events: Sequence[Event],
        idempotency: NewIdempotency | None,
    ) -> StoredResponse | None:
        """Store a new case; :class:`CaseAlreadyOpen` if the application has one already."""
        ...

    async def get_case(self, case_id: str) -> ReviewCase | None: ...

    async def case_for_application(self, customer_id: str, application_id: str) -> ReviewCase | None: ...

    async def list_cases(self, status: CaseStatus, *, limit: int, after: CaseCursor | None) -> list[ReviewCase]:
        """The cases stored with ``status``, oldest first (openedAt, id), strictly after ``after``."""
        ...

    async def list_live_cases_opened_before(self, moment: datetime, *, limit: int) -> list[ReviewCase]:
        """Up to ``limit`` cases stored live (open, info requested, awaiting approval) opened
        at or before ``moment``: the expiry sweeper's queue."""
        ...

    async def save_case(
        self,
        case: ReviewCase,
        *,
        change: ApplicationChange | None,
        decision: ReviewDecision | None,
        audit: Sequence[AuditRecord],
        events: Sequence[Event],
        idempotency: NewIdempotency | None,
    ) -> StoredResponse | None:
        """Store ``case`` over version ``case.version - 1`` with what its step changes; None, or
        the winner's response when the key was taken meanwhile. ``ConcurrentUpdate`` when the
        case or the application moved meanwhile; ``ReservationConflict`` when the credit line did."""
        ...

    async def get_review_decision(self, case_id: str) -> ReviewDecision | None: ...

    async def save_staff_plan_change(
        self,
        plan: Plan,
        *,
        audit: Sequence[AuditRecord],
        events: Sequence[Event],
        idempotency: NewIdempotency | None,
    ) -> StoredResponse | None:
        """A staff member's change of a plan (a late fee waived) over version ``plan.version``,
        with its audit record, events and key; ``ConcurrentUpdate`` when the plan moved."""
        ...

    async def decision_counts(self, start: datetime, end: datetime) -> dict[str, int]:
        """Credit decisions made in ``[start, end)`` by outcome, the whole platform (the
        dashboard's; both adapters keep a per-day tally written with each decision)."""
        ...

    async def append_audit(self, records: Sequence[AuditRecord]) -> None:
        """Record staff views (reads change nothing else)."""
        ...

    async def list_audit(self, subject: str, *, limit: int, after: AuditCursor | None) -> list[AuditRecord]:
        """A subject's records, newest first (at, id), strictly after ``after``."""
        ...
