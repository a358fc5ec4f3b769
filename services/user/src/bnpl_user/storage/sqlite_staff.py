"""Staff reads on SQLite (mixed into ``SqliteUserStore``): profiles by e-mail (an expression
index on the stored e-mail) and the staff audit log, which triggers make append-only."""

from __future__ import annotations

import json
import sqlite3

from bnpl_common.sqlite import SqliteDatabase
from bnpl_common.timefmt import format_instant

from bnpl_user.profiles.model import Profile
from bnpl_user.staff.documents import audit_doc, audit_from_doc
from bnpl_user.staff.model import StaffAuditCursor, StaffAuditRecord

STAFF_SCHEMA = """
CREATE INDEX IF NOT EXISTS profiles_by_email ON profiles (lower(json_extract(data, '$.email')));
CREATE TABLE IF NOT EXISTS staff_audit (
    id TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS staff_audit_customers (
    customer_id TEXT NOT NULL,
    at TEXT NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (customer_id, at, id)
);
CREATE TRIGGER IF NOT EXISTS staff_audit_immutable BEFORE UPDATE ON staff_audit
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER IF NOT EXISTS staff_audit_undeletable BEFORE DELETE ON staff_audit
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER IF NOT EXISTS staff_audit_customers_immutable BEFORE UPDATE ON staff_audit_customers
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER IF NOT EXISTS staff_audit_customers_undeletable BEFORE DELETE ON staff_audit_customers
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
"""


class SqliteStaffReads:
    """The ``StaffStore`` part of ``SqliteUserStore``."""

    _db: SqliteDatabase

    @staticmethod
    def _profile_of(row: sqlite3.Row) -> Profile:
        from bnpl_user.storage.sqlite import _profile  # the row mapping lives with the adapter

        return _profile(row)

    async def profiles_by_email(self, email: str, *, limit: int) -> list[Profile]:
        def run(conn: sqlite3.Connection) -> list[Profile]:
            rows = conn.execute(
                "SELECT * FROM profiles WHERE lower(json_extract(data, '$.email')) = ? ORDER BY created_at LIMIT ?",
                (email.lower(), limit),
            )
            return [self._profile_of(r) for r in rows]

        return await self._db.read(run, scan=True)

    async def append_staff_audit(self, record: StaffAuditRecord) -> None:
        def run(conn: sqlite3.Connection) -> None:
            at = format_instant(record.at)
            conn.execute(
                "INSERT INTO staff_audit (id, at, doc) VALUES (?,?,?)", (record.id, at, json.dumps(audit_doc(record)))
            )
            conn.executemany(
                "INSERT INTO staff_audit_customers (customer_id, at, id) VALUES (?,?,?)",
                [(c, at, record.id) for c in (*record.customer_ids, f"staff:{record.actor}")],
            )

        await self._db.write(run)

    async def list_staff_audit(
        self, customer_id: str, *, limit: int, after: StaffAuditCursor | None = None
    ) -> list[StaffAuditRecord]:
        def run(conn: sqlite3.Connection) -> list[StaffAuditRecord]:
            if after is None:
                rows = conn.execute(
                    "SELECT a.doc FROM staff_audit_customers c JOIN staff_audit a ON a.id = c.id"
                    " WHERE c.customer_id = ? ORDER BY c.at DESC, c.id DESC LIMIT ?",
                    (customer_id, limit),
                )
            else:
                rows = conn.execute(
                    "SELECT a.doc FROM staff_audit_customers c JOIN staff_audit a ON a.id = c.id"
                    " WHERE c.customer_id = ? AND (c.at, c.id) < (?, ?) ORDER BY c.at DESC, c.id DESC LIMIT ?",
                    (customer_id, format_instant(after.at), after.record_id, limit),
                )
            return [audit_from_doc(json.loads(r["doc"])) for r in rows]

        return await self._db.read(run, scan=True)
