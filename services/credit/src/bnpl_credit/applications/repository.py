"""Storage of applications, their immutable decision records, idempotency keys and credit lines.

``ApplicationRepository`` is the port; ``SqliteApplicationRepository`` the embedded adapter
(a DynamoDB adapter implements the same methods with one ``TransactWriteItems`` per write).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from bnpl_credit.db import (
    NewIdempotency,
    SqliteDatabase,
    StoredResponse,
    dumps,
    insert_idempotency,
    load_idempotency,
)


@dataclass(frozen=True, slots=True)
class CreditLine:
    credit_limit: int
    currency: str


@dataclass(frozen=True, slots=True)
class CustomerHistory:
    """The customer's own record with us, as the decision and the credit line need it."""

    late_installments: int
    open_plans_outstanding: int  # in ``currency`` of the credit line (or the only currency seen)
    held_approvals: int
    credit_line: CreditLine | None

    @property
    def exposure(self) -> int:
        return self.held_approvals + self.open_plans_outstanding


class ApplicationRepository(Protocol):
    async def get_idempotent(self, customer_id: str, key: str) -> StoredResponse | None: ...

    async def history(self, customer_id: str, *, now_iso: str, today: date) -> CustomerHistory: ...

    async def save_decision(
        self,
        *,
        application: dict[str, Any],
        record: dict[str, Any],
        idempotency: NewIdempotency,
        new_credit_line: CreditLine | None,
    ) -> StoredResponse | None: ...

    async def get(self, customer_id: str, application_id: str) -> dict[str, Any] | None: ...

    async def get_decision_record(self, customer_id: str, application_id: str) -> dict[str, Any] | None: ...

    async def list(self, customer_id: str, *, limit: int, after: tuple[str, str] | None) -> list[dict[str, Any]]: ...

    async def transition(
        self, customer_id: str, application_id: str, *, expect_status: str, not_expired_at: str, update: dict[str, Any]
    ) -> dict[str, Any] | None: ...


def installment_is_late(inst: dict[str, Any], today: date) -> bool:
    """Late now (past due, unpaid) or paid after its due date."""
    due = date.fromisoformat(inst["dueDate"])
    if inst.get("paidLate"):
        return True
    return inst["amountPaid"]["amount"] < inst["amount"]["amount"] and due < today


class SqliteApplicationRepository:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def get_idempotent(self, customer_id: str, key: str) -> StoredResponse | None:
        return await self._db.read(lambda c: load_idempotency(c, customer_id, key))

    async def history(self, customer_id: str, *, now_iso: str, today: date) -> CustomerHistory:
        def run(conn: sqlite3.Connection) -> CustomerHistory:
            line_row = conn.execute(
                "SELECT credit_limit, currency FROM credit_lines WHERE customer_id = ?", (customer_id,)
            ).fetchone()
            line = CreditLine(line_row["credit_limit"], line_row["currency"]) if line_row else None
            late = 0
            outstanding = 0
            for row in conn.execute("SELECT doc FROM plans WHERE customer_id = ?", (customer_id,)):
                plan = json.loads(row["doc"])
                late += sum(1 for inst in plan["installments"] if installment_is_late(inst, today))
                if plan["status"] == "ACTIVE" and (line is None or plan["principal"]["currency"] == line.currency):
                    outstanding += plan["amountOutstanding"]["amount"]
            held = 0
            for row in conn.execute(
                "SELECT doc FROM applications WHERE customer_id = ? AND status = 'APPROVED' AND expires_at > ?",
                (customer_id, now_iso),
            ):
                app = json.loads(row["doc"])
                if line is None or app["amount"]["currency"] == line.currency:
                    held += app["amount"]["amount"]
            return CustomerHistory(late, outstanding, held, line)

        return await self._db.read(run)

    async def save_decision(
        self,
        *,
        application: dict[str, Any],
        record: dict[str, Any],
        idempotency: NewIdempotency,
        new_credit_line: CreditLine | None,
    ) -> StoredResponse | None:
        def run(conn: sqlite3.Connection) -> StoredResponse | None:
            existing = load_idempotency(conn, idempotency.customer_id, idempotency.key)
            if existing is not None:  # a concurrent retry won the race: its answer stands
                return existing
            conn.execute(
                "INSERT INTO applications (id, customer_id, created_at, status, expires_at, doc) VALUES (?,?,?,?,?,?)",
                (
                    application["id"],
                    application["customerId"],
                    application["createdAt"],
                    application["status"],
                    application["expiresAt"],
                    dumps(application),
                ),
            )
            conn.execute(
                "INSERT INTO decisions (application_id, customer_id, created_at, record) VALUES (?,?,?,?)",
                (application["id"], application["customerId"], application["createdAt"], dumps(record)),
            )
            if new_credit_line is not None:
                conn.execute(
                    "INSERT OR IGNORE INTO credit_lines (customer_id, credit_limit, currency, application_id, set_at)"
                    " VALUES (?,?,?,?,?)",
                    (
                        application["customerId"],
                        new_credit_line.credit_limit,
                        new_credit_line.currency,
                        application["id"],
                        application["createdAt"],
                    ),
                )
            insert_idempotency(conn, idempotency)
            return None

        return await self._db.write(run)

    async def get(self, customer_id: str, application_id: str) -> dict[str, Any] | None:
        def run(conn: sqlite3.Connection) -> dict[str, Any] | None:
            row = conn.execute(
                "SELECT doc FROM applications WHERE id = ? AND customer_id = ?", (application_id, customer_id)
            ).fetchone()
            return json.loads(row["doc"]) if row else None

        return await self._db.read(run)

    async def get_decision_record(self, customer_id: str, application_id: str) -> dict[str, Any] | None:
        def run(conn: sqlite3.Connection) -> dict[str, Any] | None:
            row = conn.execute(
                "SELECT record FROM decisions WHERE application_id = ? AND customer_id = ?",
                (application_id, customer_id),
            ).fetchone()
            return json.loads(row["record"]) if row else None

        return await self._db.read(run)

    async def list(self, customer_id: str, *, limit: int, after: tuple[str, str] | None) -> list[dict[str, Any]]:
        def run(conn: sqlite3.Connection) -> list[dict[str, Any]]:
            if after is None:
                rows = conn.execute(
                    "SELECT doc FROM applications WHERE customer_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
                    (customer_id, limit),
                )
            else:
                rows = conn.execute(
                    "SELECT doc FROM applications WHERE customer_id = ? AND (created_at, id) < (?, ?)"
                    " ORDER BY created_at DESC, id DESC LIMIT ?",
                    (customer_id, after[0], after[1], limit),
                )
            return [json.loads(r["doc"]) for r in rows]

        return await self._db.read(run)

    async def transition(
        self, customer_id: str, application_id: str, *, expect_status: str, not_expired_at: str, update: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Apply ``update`` if the application is still ``expect_status`` and unexpired; else None."""

        def run(conn: sqlite3.Connection) -> dict[str, Any] | None:
            row = conn.execute(
                "SELECT doc FROM applications WHERE id = ? AND customer_id = ? AND status = ? AND expires_at > ?",
                (application_id, customer_id, expect_status, not_expired_at),
            ).fetchone()
            if row is None:
                return None
            doc = {**json.loads(row["doc"]), **update}
            conn.execute(
                "UPDATE applications SET status = ?, doc = ? WHERE id = ?", (doc["status"], dumps(doc), application_id)
            )
            return doc

        return await self._db.write(run)
