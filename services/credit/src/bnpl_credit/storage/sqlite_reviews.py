"""Review cases, review decisions and the audit log on SQLite (mixed into ``SqliteStore``).

Triggers make review decisions and audit records append-only: no UPDATE or DELETE of them
succeeds, whatever the code above asks.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from bnpl_common.errors import ConcurrentUpdate
from bnpl_common.idempotency import StoredResponse
from bnpl_common.sqlite import SqliteDatabase
from bnpl_common.timefmt import format_instant

from bnpl_credit.applications.model import Application
from bnpl_credit.applications.ports import Reservation, ReservationConflict
from bnpl_credit.audit.model import AuditRecord
from bnpl_credit.checkouts.ports import CheckoutWrite
from bnpl_credit.events.model import Event
from bnpl_credit.idempotency import NewIdempotency
from bnpl_credit.plans.ledger import Plan
from bnpl_credit.reviews.model import LIVE_STATUSES, CaseStatus, ReviewCase, ReviewDecision
from bnpl_credit.reviews.ports import ApplicationChange, AuditCursor, CaseAlreadyOpen, CaseCursor
from bnpl_credit.storage.documents import application_doc, dumps, loads, plan_doc
from bnpl_credit.storage.review_documents import (
    audit_doc,
    audit_from_doc,
    case_doc,
    case_from_doc,
    review_decision_doc,
    review_decision_from_doc,
)

REVIEW_SCHEMA = """
CREATE TABLE IF NOT EXISTS review_cases (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL UNIQUE,
    customer_id TEXT NOT NULL,
    status TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    version INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS review_cases_by_status ON review_cases (status, opened_at, id);
CREATE TABLE IF NOT EXISTS review_decisions (
    case_id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS review_decisions_immutable BEFORE UPDATE ON review_decisions
BEGIN SELECT RAISE(ABORT, 'review decisions are immutable'); END;
CREATE TRIGGER IF NOT EXISTS review_decisions_undeletable BEFORE DELETE ON review_decisions
BEGIN SELECT RAISE(ABORT, 'review decisions are immutable'); END;
CREATE INDEX IF NOT EXISTS decisions_by_time ON decisions (created_at);
CREATE TABLE IF NOT EXISTS audit_log (
    id TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_subjects (
    subject TEXT NOT NULL,
    at TEXT NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (subject, at, id)
);
CREATE TRIGGER IF NOT EXISTS audit_log_immutable BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_undeletable BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_subjects_immutable BEFORE UPDATE ON audit_subjects
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_subjects_undeletable BEFORE DELETE ON audit_subjects
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
"""

_LIVE = tuple(str(s) for s in LIVE_STATUSES)


class SqliteReviews:
    """The ``ReviewStore`` half of ``SqliteStore``."""

    if TYPE_CHECKING:
        _db: SqliteDatabase

        def _claim_key(self, conn: sqlite3.Connection, record: NewIdempotency) -> StoredResponse | None: ...

        @staticmethod
        def _add_events(conn: sqlite3.Connection, events: Sequence[Event]) -> None: ...

        def _claim_order(
            self, conn: sqlite3.Connection, application: Application, *, now: datetime, plan_id: str | None = None
        ) -> None: ...

        def write_checkout(self, conn: sqlite3.Connection, write: CheckoutWrite) -> None: ...

    # -- writes -----------------------------------------------------------------------------

    @staticmethod
    def _insert_case(conn: sqlite3.Connection, case: ReviewCase) -> None:
        try:
            conn.execute(
                "INSERT INTO review_cases (id, application_id, customer_id, status, opened_at, version, doc)"
                " VALUES (?,?,?,?,?,?,?)",
                (
                    case.id,
                    case.application_id,
                    case.customer_id,
                    str(case.status),
                    format_instant(case.opened_at),
                    case.version,
                    dumps(case_doc(case)),
                ),
            )
        except sqlite3.IntegrityError as exc:
            raise CaseAlreadyOpen(case.application_id) from exc

    @staticmethod
    def _add_audit(conn: sqlite3.Connection, records: Sequence[AuditRecord]) -> None:
        for record in records:
            at = format_instant(record.at)
            conn.execute(
                "INSERT INTO audit_log (id, at, doc) VALUES (?,?,?)", (record.id, at, dumps(audit_doc(record)))
            )
            conn.executemany(
                "INSERT INTO audit_subjects (subject, at, id) VALUES (?,?,?)",
                [(subject, at, record.id) for subject in record.subjects],
            )

    @staticmethod
    def _reserve(conn: sqlite3.Connection, customer_id: str, reservation: Reservation) -> None:
        if reservation.expected_version is None:
            row = conn.execute("SELECT 1 FROM accounts WHERE customer_id = ?", (customer_id,)).fetchone()
            if row is not None or reservation.new_account is None:
                raise ReservationConflict("the credit line changed meanwhile", field="caseId")
            new = reservation.new_account
            conn.execute(
                "INSERT INTO accounts (customer_id, credit_limit, currency, version) VALUES (?,?,?,1)",
                (customer_id, new.credit_limit, new.currency),
            )
            return
        changed = conn.execute(
            "UPDATE accounts SET version = version + 1 WHERE customer_id = ? AND version = ?",
            (customer_id, reservation.expected_version),
        )
        if changed.rowcount != 1:
            raise ReservationConflict("the credit line changed meanwhile", field="caseId")

    def _apply_change(self, conn: sqlite3.Connection, change: ApplicationChange) -> None:
        app = change.application
        if change.reservation is not None:
            self._reserve(conn, app.customer_id, change.reservation)
        if change.claim_order:
            self._claim_order(conn, app, now=change.at)
        moved = conn.execute(
            "UPDATE applications SET status = ?, expires_at = ?, doc = ?"
            " WHERE id = ? AND customer_id = ? AND status = ?",
            (
                str(app.status),
                format_instant(app.expires_at) if app.expires_at else None,
                dumps(application_doc(app)),
                app.id,
                app.customer_id,
                str(change.expected_status),
            ),
        )
        if moved.rowcount != 1:
            raise ConcurrentUpdate("the application changed meanwhile; try again", field="caseId")
        if change.checkout is not None:
            self.write_checkout(conn, change.checkout)

    async def open_case(
        self,
        case: ReviewCase,
        *,
        audit: Sequence[AuditRecord],
        events: Sequence[Event],
        idempotency: NewIdempotency | None,
    ) -> StoredResponse | None:
        def run(conn: sqlite3.Connection) -> StoredResponse | None:
            if idempotency is not None:
                winner = self._claim_key(conn, idempotency)
                if winner is not None:
                    return winner
            self._insert_case(conn, case)
            self._add_audit(conn, audit)
            self._add_events(conn, events)
            return None

        return await self._db.write(run)

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
        def run(conn: sqlite3.Connection) -> StoredResponse | None:
            if idempotency is not None:
                winner = self._claim_key(conn, idempotency)
                if winner is not None:
                    return winner
            updated = conn.execute(
                "UPDATE review_cases SET status = ?, version = ?, doc = ? WHERE id = ? AND version = ?",
                (str(case.status), case.version, dumps(case_doc(case)), case.id, case.version - 1),
            )
            if updated.rowcount != 1:
                raise ConcurrentUpdate("the case changed meanwhile; try again", field="caseId")
            if change is not None:
                self._apply_change(conn, change)
            if decision is not None:
                conn.execute(
                    "INSERT INTO review_decisions (case_id, application_id, customer_id, created_at, doc)"
                    " VALUES (?,?,?,?,?)",
                    (
                        decision.case_id,
                        decision.application_id,
                        decision.customer_id,
                        format_instant(decision.decided_at),
                        dumps(review_decision_doc(decision)),
                    ),
                )
            self._add_audit(conn, audit)
            self._add_events(conn, events)
            return None

        return await self._db.write(run)

    async def save_staff_plan_change(
        self,
        plan: Plan,
        *,
        audit: Sequence[AuditRecord],
        events: Sequence[Event],
        idempotency: NewIdempotency | None,
    ) -> StoredResponse | None:
        def run(conn: sqlite3.Connection) -> StoredResponse | None:
            if idempotency is not None:
                winner = self._claim_key(conn, idempotency)
                if winner is not None:
                    return winner
            changed = conn.execute(
                "UPDATE plans SET doc = ?, status = ?, version = version + 1 WHERE id = ? AND customer_id = ?"
                " AND version = ?",
                (dumps(plan_doc(plan)), str(plan.status), plan.id, plan.customer_id, plan.version),
            )
            if changed.rowcount != 1:
                raise ConcurrentUpdate("the plan changed meanwhile; try again", field="planId")
            self._add_audit(conn, audit)
            self._add_events(conn, events)
            return None

        return await self._db.write(run)

    async def decision_counts(self, start: datetime, end: datetime) -> dict[str, int]:
        def run(conn: sqlite3.Connection) -> dict[str, int]:
            rows = conn.execute(
                "SELECT json_extract(record, '$.status') AS outcome, count(*) AS n FROM decisions"
                " WHERE created_at >= ? AND created_at < ? GROUP BY outcome",
                (format_instant(start), format_instant(end)),
            )
            return {str(r["outcome"]): int(r["n"]) for r in rows}

        return await self._db.read(run, scan=True)

    async def append_audit(self, records: Sequence[AuditRecord]) -> None:
        await self._db.write(lambda conn: self._add_audit(conn, records))

    # -- reads ------------------------------------------------------------------------------

    async def get_case(self, case_id: str) -> ReviewCase | None:
        def run(conn: sqlite3.Connection) -> ReviewCase | None:
            row = conn.execute("SELECT doc, version FROM review_cases WHERE id = ?", (case_id,)).fetchone()
            return case_from_doc(loads(row["doc"]), int(row["version"])) if row else None

        return await self._db.read(run)

    async def case_for_application(self, customer_id: str, application_id: str) -> ReviewCase | None:
        def run(conn: sqlite3.Connection) -> ReviewCase | None:
            row = conn.execute(
                "SELECT doc, version FROM review_cases WHERE application_id = ? AND customer_id = ?",
                (application_id, customer_id),
            ).fetchone()
            return case_from_doc(loads(row["doc"]), int(row["version"])) if row else None

        return await self._db.read(run)

    async def list_cases(self, status: CaseStatus, *, limit: int, after: CaseCursor | None) -> list[ReviewCase]:
        def run(conn: sqlite3.Connection) -> list[ReviewCase]:
            if after is None:
                rows = conn.execute(
                    "SELECT doc, version FROM review_cases WHERE status = ? ORDER BY opened_at, id LIMIT ?",
                    (str(status), limit),
                )
            else:
                rows = conn.execute(
                    "SELECT doc, version FROM review_cases WHERE status = ? AND (opened_at, id) > (?, ?)"
                    " ORDER BY opened_at, id LIMIT ?",
                    (str(status), format_instant(after.opened_at), after.case_id, limit),
                )
            return [case_from_doc(loads(r["doc"]), int(r["version"])) for r in rows]

        return await self._db.read(run, scan=True)

    async def list_live_cases_opened_before(self, moment: datetime, *, limit: int) -> list[ReviewCase]:
        def run(conn: sqlite3.Connection) -> list[ReviewCase]:
            rows = conn.execute(
                "SELECT doc, version FROM review_cases WHERE status IN (?,?,?) AND opened_at <= ?"
                " ORDER BY opened_at, id LIMIT ?",
                (*_LIVE, format_instant(moment), limit),
            )
            return [case_from_doc(loads(r["doc"]), int(r["version"])) for r in rows]

        return await self._db.read(run, scan=True)

    async def get_review_decision(self, case_id: str) -> ReviewDecision | None:
        def run(conn: sqlite3.Connection) -> ReviewDecision | None:
            row = conn.execute("SELECT doc FROM review_decisions WHERE case_id = ?", (case_id,)).fetchone()
            return review_decision_from_doc(loads(row["doc"])) if row else None

        return await self._db.read(run)

    async def list_audit(self, subject: str, *, limit: int, after: AuditCursor | None) -> list[AuditRecord]:
        def run(conn: sqlite3.Connection) -> list[AuditRecord]:
            if after is None:
                rows = conn.execute(
                    "SELECT l.doc FROM audit_subjects s JOIN audit_log l ON l.id = s.id WHERE s.subject = ?"
                    " ORDER BY s.at DESC, s.id DESC LIMIT ?",
                    (subject, limit),
                )
            else:
                rows = conn.execute(
                    "SELECT l.doc FROM audit_subjects s JOIN audit_log l ON l.id = s.id WHERE s.subject = ?"
                    " AND (s.at, s.id) < (?, ?) ORDER BY s.at DESC, s.id DESC LIMIT ?",
                    (subject, format_instant(after.at), after.record_id, limit),
                )
            return [audit_from_doc(loads(r["doc"])) for r in rows]

        return await self._db.read(run, scan=True)
