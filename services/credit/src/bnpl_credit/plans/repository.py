"""Storage of payment plans and payments (port + SQLite adapter).

Confirming writes the application's new status, the plan and the idempotency key in one
transaction; a payment updates the plan only if its version did not move (optimistic
concurrency, the same condition a DynamoDB adapter puts in its ``ConditionExpression``).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Protocol

from bnpl_credit.db import (
    NewIdempotency,
    SqliteDatabase,
    StoredResponse,
    dumps,
    insert_idempotency,
    load_idempotency,
)
from bnpl_credit.errors import ConcurrentUpdate, InvalidApplicationState


class PlanRepository(Protocol):
    async def get_idempotent(self, customer_id: str, key: str) -> StoredResponse | None: ...

    async def confirm(
        self,
        *,
        plan: dict[str, Any],
        application_update: dict[str, Any],
        not_expired_at: str,
        idempotency: NewIdempotency,
    ) -> StoredResponse | None: ...

    async def get(self, customer_id: str, plan_id: str) -> tuple[dict[str, Any], int] | None: ...

    async def list(self, customer_id: str) -> list[dict[str, Any]]: ...

    async def record_payment(
        self, *, plan: dict[str, Any], expected_version: int, payment: dict[str, Any], idempotency: NewIdempotency
    ) -> StoredResponse | None: ...


class SqlitePlanRepository:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def get_idempotent(self, customer_id: str, key: str) -> StoredResponse | None:
        return await self._db.read(lambda c: load_idempotency(c, customer_id, key))

    async def confirm(
        self,
        *,
        plan: dict[str, Any],
        application_update: dict[str, Any],
        not_expired_at: str,
        idempotency: NewIdempotency,
    ) -> StoredResponse | None:
        def run(conn: sqlite3.Connection) -> StoredResponse | None:
            existing = load_idempotency(conn, idempotency.customer_id, idempotency.key)
            if existing is not None:
                return existing
            row = conn.execute(
                "SELECT doc FROM applications WHERE id = ? AND customer_id = ? AND status = 'APPROVED'"
                " AND expires_at > ?",
                (plan["applicationId"], plan["customerId"], not_expired_at),
            ).fetchone()
            if row is None:
                raise InvalidApplicationState("the application can no longer be confirmed", field="applicationId")
            doc = {**json.loads(row["doc"]), **application_update}
            conn.execute(
                "UPDATE applications SET status = ?, doc = ? WHERE id = ?", (doc["status"], dumps(doc), doc["id"])
            )
            conn.execute(
                "INSERT INTO plans (id, customer_id, application_id, created_at, status, version, doc)"
                " VALUES (?,?,?,?,?,?,?)",
                (
                    plan["id"],
                    plan["customerId"],
                    plan["applicationId"],
                    plan["createdAt"],
                    plan["status"],
                    1,
                    dumps(plan),
                ),
            )
            insert_idempotency(conn, idempotency)
            return None

        return await self._db.write(run)

    async def get(self, customer_id: str, plan_id: str) -> tuple[dict[str, Any], int] | None:
        def run(conn: sqlite3.Connection) -> tuple[dict[str, Any], int] | None:
            row = conn.execute(
                "SELECT doc, version FROM plans WHERE id = ? AND customer_id = ?", (plan_id, customer_id)
            ).fetchone()
            return (json.loads(row["doc"]), int(row["version"])) if row else None

        return await self._db.read(run)

    async def list(self, customer_id: str) -> list[dict[str, Any]]:
        def run(conn: sqlite3.Connection) -> list[dict[str, Any]]:
            rows = conn.execute(
                "SELECT doc FROM plans WHERE customer_id = ? ORDER BY created_at DESC, id DESC", (customer_id,)
            )
            return [json.loads(r["doc"]) for r in rows]

        return await self._db.read(run)

    async def record_payment(
        self, *, plan: dict[str, Any], expected_version: int, payment: dict[str, Any], idempotency: NewIdempotency
    ) -> StoredResponse | None:
        def run(conn: sqlite3.Connection) -> StoredResponse | None:
            existing = load_idempotency(conn, idempotency.customer_id, idempotency.key)
            if existing is not None:
                return existing
            cur = conn.execute(
                "UPDATE plans SET doc = ?, status = ?, version = version + 1 WHERE id = ? AND customer_id = ?"
                " AND version = ?",
                (dumps(plan), plan["status"], plan["id"], plan["customerId"], expected_version),
            )
            if cur.rowcount != 1:
                raise ConcurrentUpdate("the plan changed meanwhile; retry the payment", field="planId")
            conn.execute(
                "INSERT INTO payments (id, customer_id, plan_id, created_at, doc) VALUES (?,?,?,?,?)",
                (payment["id"], payment["customerId"], payment["planId"], payment["createdAt"], dumps(payment)),
            )
            insert_idempotency(conn, idempotency)
            return None

        return await self._db.write(run)
