"""Payment profiles and plan collections on SQLite (mixed into ``SqliteStore``).

Table ``payment_records``: one JSON document per (kind, id) with a version for the
optimistic-concurrency check of plan collections.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict

from bnpl_common.sqlite import SqliteDatabase

from bnpl_credit.collections.documents import collection_doc, collection_from_doc, profile_doc, profile_from_doc
from bnpl_credit.collections.model import PaymentProfile, PendingRefund, PlanCollection
from bnpl_credit.errors import ConcurrentUpdate

PAYMENTS_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS payment_records (
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        version INTEGER NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (kind, id)
    )""",
)


class SqlitePayments:
    """The ``PaymentStore`` port."""

    _db: SqliteDatabase

    def _create_payments_schema(self) -> None:
        def run(conn: sqlite3.Connection) -> None:
            for statement in PAYMENTS_SCHEMA:
                conn.execute(statement)

        self._db.run_sync(run, write=True)

    async def get_payment_profile(self, customer_id: str) -> PaymentProfile | None:
        def run(conn: sqlite3.Connection) -> PaymentProfile | None:
            row = conn.execute(
                "SELECT doc FROM payment_records WHERE kind = 'profile' AND id = ?", (customer_id,)
            ).fetchone()
            return None if row is None else profile_from_doc(json.loads(row["doc"]))

        return await self._db.read(run)

    async def save_payment_profile(self, profile: PaymentProfile) -> None:
        doc = json.dumps(profile_doc(profile), separators=(",", ":"))

        def run(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO payment_records (kind, id, version, doc) VALUES ('profile', ?, 1, ?) "
                "ON CONFLICT (kind, id) DO UPDATE SET doc = excluded.doc, version = version + 1",
                (profile.customer_id, doc),
            )

        await self._db.write(run)

    async def get_plan_collection(self, plan_id: str) -> PlanCollection | None:
        def run(conn: sqlite3.Connection) -> PlanCollection | None:
            row = conn.execute(
                "SELECT version, doc FROM payment_records WHERE kind = 'collection' AND id = ?", (plan_id,)
            ).fetchone()
            return None if row is None else collection_from_doc(json.loads(row["doc"]), int(row["version"]))

        return await self._db.read(run)

    async def save_plan_collection(self, collection: PlanCollection) -> None:
        doc = json.dumps(collection_doc(collection), separators=(",", ":"))

        def run(conn: sqlite3.Connection) -> None:
            if collection.version == 0:
                cursor = conn.execute(
                    "INSERT OR IGNORE INTO payment_records (kind, id, version, doc) VALUES ('collection', ?, 1, ?)",
                    (collection.plan_id, doc),
                )
            else:
                cursor = conn.execute(
                    "UPDATE payment_records SET doc = ?, version = version + 1 "
                    "WHERE kind = 'collection' AND id = ? AND version = ?",
                    (doc, collection.plan_id, collection.version),
                )
            if cursor.rowcount != 1:
                raise ConcurrentUpdate("the plan's collection changed meanwhile", field="planId")

        await self._db.write(run)

    async def save_setup_owner(self, setup_id: str, customer_id: str) -> None:
        doc = json.dumps({"customerId": customer_id}, separators=(",", ":"))

        def run(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT OR IGNORE INTO payment_records (kind, id, version, doc) VALUES ('setup', ?, 1, ?)",
                (setup_id, doc),
            )

        await self._db.write(run)

    async def get_setup_owner(self, setup_id: str) -> str | None:
        def run(conn: sqlite3.Connection) -> str | None:
            row = conn.execute(
                "SELECT doc FROM payment_records WHERE kind = 'setup' AND id = ?", (setup_id,)
            ).fetchone()
            return None if row is None else str(json.loads(row["doc"])["customerId"])

        return await self._db.read(run)

    async def psp_event_seen(self, event_id: str) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            row = conn.execute(
                "SELECT 1 FROM payment_records WHERE kind = 'psp-event' AND id = ?", (event_id,)
            ).fetchone()
            return row is not None

        return await self._db.read(run)

    async def mark_psp_event(self, event_id: str, *, expires_at: int) -> None:
        doc = json.dumps({"expiresAt": expires_at}, separators=(",", ":"))

        def run(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT OR IGNORE INTO payment_records (kind, id, version, doc) VALUES ('psp-event', ?, 1, ?)",
                (event_id, doc),
            )

        await self._db.write(run)

    async def save_pending_refund(self, pending: PendingRefund) -> None:
        doc = json.dumps(asdict(pending), separators=(",", ":"))

        def run(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO payment_records (kind, id, version, doc) VALUES ('pending-refund', ?, 1, ?) "
                "ON CONFLICT (kind, id) DO UPDATE SET doc = excluded.doc, version = version + 1",
                (pending.key, doc),
            )

        await self._db.write(run)

    async def list_pending_refunds(self, *, limit: int = 100) -> list[PendingRefund]:
        def run(conn: sqlite3.Connection) -> list[PendingRefund]:
            rows = conn.execute(
                "SELECT doc FROM payment_records WHERE kind = 'pending-refund' ORDER BY id LIMIT ?", (limit,)
            ).fetchall()
            return [PendingRefund(**json.loads(row["doc"])) for row in rows]

        return await self._db.read(run, scan=True)

    async def delete_pending_refund(self, key: str) -> None:
        def run(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM payment_records WHERE kind = 'pending-refund' AND id = ?", (key,))

        await self._db.write(run)
