"""The embedded SQLite adapter of :class:`~bnpl_credit.storage.port.CreditStore` (one file, WAL).

Each call is one transaction of :class:`bnpl_common.sqlite.SqliteDatabase` (its own connection
in a worker thread): reads in one deferred transaction (one snapshot); writes in one
``BEGIN IMMEDIATE`` transaction, so everything a request writes lands together or not at all
and concurrent writers queue on the lock.
Unique constraints back the invariants (one plan per application, one record per id,
one idempotency record per key, one live claim per merchant order); triggers make decision
records immutable.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bnpl_common.sqlite import SqliteDatabase

from bnpl_credit.errors import ConcurrentUpdate, InvalidApplicationState
from bnpl_credit.storage.port import (
    DEFAULT_IDEMPOTENCY_TTL,
    RELEASING_STATUSES,
    Account,
    CustomerSnapshot,
    NewIdempotency,
    OrderClaim,
    PlanRecord,
    Reservation,
    ReservationConflict,
    StoredResponse,
    order_taken,
)
from bnpl_credit.timefmt import iso

SCHEMA = """
CREATE TABLE IF NOT EXISTS applications (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL,
    expires_at TEXT,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS applications_by_customer ON applications (customer_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS applications_by_expiry ON applications (status, expires_at);
CREATE TABLE IF NOT EXISTS decisions (
    application_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS decisions_immutable BEFORE UPDATE ON decisions
BEGIN SELECT RAISE(ABORT, 'decision records are immutable'); END;
CREATE TRIGGER IF NOT EXISTS decisions_undeletable BEFORE DELETE ON decisions
BEGIN SELECT RAISE(ABORT, 'decision records are immutable'); END;
CREATE TABLE IF NOT EXISTS idempotency (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status_code INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE TABLE IF NOT EXISTS accounts (
    customer_id TEXT PRIMARY KEY,
    credit_limit INTEGER NOT NULL,
    currency TEXT NOT NULL,
    version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS plans (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    application_id TEXT NOT NULL UNIQUE,
    merchant_id TEXT NOT NULL,
    order_reference TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL,
    version INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS plans_by_customer ON plans (customer_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS plans_by_order ON plans (merchant_id, order_reference);
CREATE INDEX IF NOT EXISTS plans_by_status ON plans (status);
CREATE TABLE IF NOT EXISTS plan_records (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    plan_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_by_plan ON plan_records (plan_id, kind, created_at);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    doc TEXT NOT NULL,
    published_at TEXT
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (seq) WHERE published_at IS NULL;
CREATE TABLE IF NOT EXISTS order_claims (
    merchant_id TEXT NOT NULL,
    order_reference TEXT NOT NULL,
    application_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    plan_id TEXT,
    held_until TEXT,
    PRIMARY KEY (merchant_id, order_reference)
);
"""

# the two sides of an approval's hold: confirmable or cancellable before expires_at, expirable from then on
_STATUS_UNEXPIRED = "status = ? AND expires_at > ?"
_STATUS_EXPIRED = "status = ? AND expires_at <= ?"


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


class SqliteStore:
    """``CreditStore`` on one SQLite file."""

    def __init__(self, path: str | Path, *, idempotency_ttl: timedelta = DEFAULT_IDEMPOTENCY_TTL) -> None:
        self.path = str(path)
        self._ttl = idempotency_ttl
        self._db = SqliteDatabase(self.path, schema_sql=SCHEMA, busy_timeout=30.0)
        self._db.create_schema_sync()

    # -- plumbing -------------------------------------------------------------------------

    async def ping(self) -> bool:
        try:
            return await self._db.read(lambda c: c.execute("SELECT 1").fetchone()[0] == 1)
        except sqlite3.Error:
            return False

    async def close(self) -> None:
        return None

    # -- idempotency ----------------------------------------------------------------------

    @staticmethod
    def _load_key(conn: sqlite3.Connection, scope: str, key: str, now: str) -> StoredResponse | None:
        row = conn.execute(
            "SELECT fingerprint, status_code, body FROM idempotency WHERE scope = ? AND key = ? AND expires_at > ?",
            (scope, key, now),
        ).fetchone()
        return StoredResponse(row["fingerprint"], row["status_code"], json.loads(row["body"])) if row else None

    def _claim_key(self, conn: sqlite3.Connection, record: NewIdempotency) -> StoredResponse | None:
        """The winner's response if the key is taken (and alive); else write ours."""
        now = iso(record.created_at)
        existing = self._load_key(conn, record.scope, record.key, now)
        if existing is not None:
            return existing
        conn.execute("DELETE FROM idempotency WHERE scope = ? AND key = ?", (record.scope, record.key))
        conn.execute(
            "INSERT INTO idempotency (scope, key, fingerprint, status_code, body, created_at, expires_at)"
            " VALUES (?,?,?,?,?,?,?)",
            (
                record.scope,
                record.key,
                record.fingerprint,
                record.status_code,
                dumps(record.body),
                now,
                iso(record.created_at + self._ttl),
            ),
        )
        return None

    async def get_idempotent(self, scope: str, key: str, *, now: datetime) -> StoredResponse | None:
        return await self._db.read(lambda c: self._load_key(c, scope, key, iso(now)))

    @staticmethod
    def _add_events(conn: sqlite3.Connection, events: list[dict[str, Any]]) -> None:
        for event in events:
            conn.execute(
                "INSERT INTO outbox (id, type, occurred_at, doc) VALUES (?,?,?,?)",
                (event["id"], event["type"], event["occurredAt"], dumps(event)),
            )

    @staticmethod
    def _add_records(conn: sqlite3.Connection, records: list[PlanRecord]) -> None:
        for rec in records:
            doc = rec.doc
            conn.execute(
                "INSERT INTO plan_records (id, kind, customer_id, plan_id, created_at, doc) VALUES (?,?,?,?,?,?)",
                (doc["id"], rec.kind, doc["customerId"], doc["planId"], doc["createdAt"], dumps(doc)),
            )

    @staticmethod
    def _move_application(
        conn: sqlite3.Connection,
        customer_id: str,
        application_id: str,
        update: dict[str, Any],
        condition: str,
        *params: str,
    ) -> dict[str, Any] | None:
        """Apply ``update`` to the customer's application if ``condition`` (one of the constants
        above, with its ``params``) holds; the new document, or None."""
        row = conn.execute(
            f"SELECT doc FROM applications WHERE id = ? AND customer_id = ? AND {condition}",  # noqa: S608 - constant
            (application_id, customer_id, *params),
        ).fetchone()
        if row is None:
            return None
        doc = {**json.loads(row["doc"]), **update}
        conn.execute(
            "UPDATE applications SET status = ?, doc = ? WHERE id = ?", (doc["status"], dumps(doc), application_id)
        )
        return doc

    # -- order claims: one live approval or plan per merchant order --------------------------

    @staticmethod
    def _load_claim(conn: sqlite3.Connection, merchant_id: str, order_reference: str) -> OrderClaim | None:
        row = conn.execute(
            "SELECT application_id, customer_id, plan_id, held_until FROM order_claims"
            " WHERE merchant_id = ? AND order_reference = ?",
            (merchant_id, order_reference),
        ).fetchone()
        if row is None:
            return None
        return OrderClaim(row["application_id"], row["customer_id"], row["plan_id"], row["held_until"])

    def _claim_order(
        self,
        conn: sqlite3.Connection,
        application: dict[str, Any],
        *,
        now: str,
        plan_id: str | None = None,
    ) -> None:
        """Take (or, for ``plan_id``, turn into a plan's) the claim on the application's order;
        ``OrderAlreadyFinanced`` when another live approval or plan holds it."""
        merchant_id, order_reference = application["merchantId"], application["orderReference"]
        current = self._load_claim(conn, merchant_id, order_reference)
        if current is not None and current.application_id != application["id"] and current.is_live(now):
            raise order_taken()
        conn.execute(
            "INSERT OR REPLACE INTO order_claims"
            " (merchant_id, order_reference, application_id, customer_id, plan_id, held_until) VALUES (?,?,?,?,?,?)",
            (
                merchant_id,
                order_reference,
                application["id"],
                application["customerId"],
                plan_id,
                None if plan_id else application["expiresAt"],
            ),
        )

    @staticmethod
    def _release_claim(conn: sqlite3.Connection, doc: dict[str, Any], *, column: str) -> None:
        """Drop the order's claim if it is still this application's (``column`` application_id)
        or this plan's (``plan_id``)."""
        conn.execute(
            f"DELETE FROM order_claims WHERE merchant_id = ? AND order_reference = ? AND {column} = ?",  # noqa: S608
            (doc["merchantId"], doc["orderReference"], doc["id"]),
        )

    async def get_order_claim(self, merchant_id: str, order_reference: str, *, now: str) -> OrderClaim | None:
        def run(conn: sqlite3.Connection) -> OrderClaim | None:
            claim = self._load_claim(conn, merchant_id, order_reference)
            return claim if claim is not None and claim.is_live(now) else None

        return await self._db.read(run)

    # -- applications ---------------------------------------------------------------------

    async def snapshot(self, customer_id: str) -> CustomerSnapshot:
        def run(conn: sqlite3.Connection) -> CustomerSnapshot:
            row = conn.execute(
                "SELECT credit_limit, currency, version FROM accounts WHERE customer_id = ?", (customer_id,)
            ).fetchone()
            account = Account(row["credit_limit"], row["currency"], row["version"]) if row else None
            apps = [
                json.loads(r["doc"])
                for r in conn.execute(
                    "SELECT doc FROM applications WHERE customer_id = ? AND status = 'APPROVED'", (customer_id,)
                )
            ]
            plans = [
                json.loads(r["doc"])
                for r in conn.execute("SELECT doc FROM plans WHERE customer_id = ?", (customer_id,))
            ]
            return CustomerSnapshot(account, apps, plans)

        return await self._db.read(run)

    async def save_decision(
        self,
        *,
        application: dict[str, Any],
        record: dict[str, Any],
        idempotency: NewIdempotency,
        events: list[dict[str, Any]],
        reservation: Reservation | None,
    ) -> StoredResponse | None:
        customer_id = application["customerId"]

        def run(conn: sqlite3.Connection) -> StoredResponse | None:
            winner = self._claim_key(conn, idempotency)
            if winner is not None:  # a concurrent retry won the race: its answer stands
                return winner
            if reservation is not None:
                row = conn.execute("SELECT version FROM accounts WHERE customer_id = ?", (customer_id,)).fetchone()
                if reservation.expected_version is None:
                    if row is not None or reservation.new_account is None:
                        raise ReservationConflict("the credit line changed meanwhile", field="order")
                    new = reservation.new_account
                    conn.execute(
                        "INSERT INTO accounts (customer_id, credit_limit, currency, version) VALUES (?,?,?,1)",
                        (customer_id, new.credit_limit, new.currency),
                    )
                else:
                    cur = conn.execute(
                        "UPDATE accounts SET version = version + 1 WHERE customer_id = ? AND version = ?",
                        (customer_id, reservation.expected_version),
                    )
                    if cur.rowcount != 1:
                        raise ReservationConflict("the credit line changed meanwhile", field="order")
            if application["status"] == "APPROVED":
                self._claim_order(conn, application, now=application["createdAt"])
            conn.execute(
                "INSERT INTO applications (id, customer_id, created_at, status, expires_at, doc) VALUES (?,?,?,?,?,?)",
                (
                    application["id"],
                    customer_id,
                    application["createdAt"],
                    application["status"],
                    application["expiresAt"],
                    dumps(application),
                ),
            )
            conn.execute(
                "INSERT INTO decisions (application_id, customer_id, created_at, record) VALUES (?,?,?,?)",
                (application["id"], customer_id, application["createdAt"], dumps(record)),
            )
            self._add_events(conn, events)
            return None

        return await self._db.write(run)

    async def get_application(self, customer_id: str, application_id: str) -> dict[str, Any] | None:
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

    async def list_applications(
        self, customer_id: str, *, limit: int, after: tuple[str, str] | None
    ) -> list[dict[str, Any]]:
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

    async def transition_application(
        self,
        customer_id: str,
        application_id: str,
        *,
        expect_status: str,
        not_expired_at: str,
        update: dict[str, Any],
        events: list[dict[str, Any]],
    ) -> dict[str, Any] | None:
        def run(conn: sqlite3.Connection) -> dict[str, Any] | None:
            doc = self._move_application(
                conn, customer_id, application_id, update, _STATUS_UNEXPIRED, expect_status, not_expired_at
            )
            if doc is not None:
                if doc["status"] in RELEASING_STATUSES:
                    self._release_claim(conn, doc, column="application_id")
                self._add_events(conn, events)
            return doc

        return await self._db.write(run)

    async def list_expired_approvals(self, *, now: str, limit: int) -> list[dict[str, Any]]:
        def run(conn: sqlite3.Connection) -> list[dict[str, Any]]:
            rows = conn.execute(
                "SELECT doc FROM applications WHERE status = 'APPROVED' AND expires_at <= ?"
                " ORDER BY expires_at, id LIMIT ?",
                (now, limit),
            )
            return [json.loads(r["doc"]) for r in rows]

        return await self._db.read(run)

    async def expire_application(
        self, customer_id: str, application_id: str, *, now: str, update: dict[str, Any], events: list[dict[str, Any]]
    ) -> dict[str, Any] | None:
        def run(conn: sqlite3.Connection) -> dict[str, Any] | None:
            doc = self._move_application(conn, customer_id, application_id, update, _STATUS_EXPIRED, "APPROVED", now)
            if doc is not None:
                self._release_claim(conn, doc, column="application_id")
                self._add_events(conn, events)
            return doc

        return await self._db.write(run)

    # -- plans ----------------------------------------------------------------------------

    async def confirm(
        self,
        *,
        plan: dict[str, Any],
        application_update: dict[str, Any],
        not_expired_at: str,
        idempotency: NewIdempotency,
        records: list[PlanRecord],
        events: list[dict[str, Any]],
    ) -> StoredResponse | None:
        def run(conn: sqlite3.Connection) -> StoredResponse | None:
            winner = self._claim_key(conn, idempotency)
            if winner is not None:
                return winner
            moved = self._move_application(
                conn,
                plan["customerId"],
                plan["applicationId"],
                application_update,
                _STATUS_UNEXPIRED,
                "APPROVED",
                not_expired_at,
            )
            if moved is None:
                raise InvalidApplicationState("the application can no longer be confirmed", field="applicationId")
            self._claim_order(conn, moved, now=not_expired_at, plan_id=plan["id"])
            conn.execute(
                "INSERT INTO plans (id, customer_id, application_id, merchant_id, order_reference, created_at, status,"
                " version, doc) VALUES (?,?,?,?,?,?,?,1,?)",
                (
                    plan["id"],
                    plan["customerId"],
                    plan["applicationId"],
                    plan["merchantId"],
                    plan["orderReference"],
                    plan["createdAt"],
                    plan["status"],
                    dumps(plan),
                ),
            )
            self._add_records(conn, records)
            self._add_events(conn, events)
            return None

        return await self._db.write(run)

    async def get_plan(self, customer_id: str, plan_id: str) -> tuple[dict[str, Any], int] | None:
        def run(conn: sqlite3.Connection) -> tuple[dict[str, Any], int] | None:
            row = conn.execute(
                "SELECT doc, version FROM plans WHERE id = ? AND customer_id = ?", (plan_id, customer_id)
            ).fetchone()
            return (json.loads(row["doc"]), int(row["version"])) if row else None

        return await self._db.read(run)

    async def find_plan(self, plan_id: str) -> tuple[dict[str, Any], int] | None:
        def run(conn: sqlite3.Connection) -> tuple[dict[str, Any], int] | None:
            row = conn.execute("SELECT doc, version FROM plans WHERE id = ?", (plan_id,)).fetchone()
            return (json.loads(row["doc"]), int(row["version"])) if row else None

        return await self._db.read(run)

    async def find_plans_by_order(self, merchant_id: str, order_reference: str) -> list[dict[str, Any]]:
        def run(conn: sqlite3.Connection) -> list[dict[str, Any]]:
            rows = conn.execute(
                "SELECT doc FROM plans WHERE merchant_id = ? AND order_reference = ? ORDER BY created_at DESC",
                (merchant_id, order_reference),
            )
            return [json.loads(r["doc"]) for r in rows]

        return await self._db.read(run)

    async def list_plans(self, customer_id: str) -> list[dict[str, Any]]:
        def run(conn: sqlite3.Connection) -> list[dict[str, Any]]:
            rows = conn.execute(
                "SELECT doc FROM plans WHERE customer_id = ? ORDER BY created_at DESC, id DESC", (customer_id,)
            )
            return [json.loads(r["doc"]) for r in rows]

        return await self._db.read(run)

    async def list_open_plans(self) -> list[tuple[dict[str, Any], int]]:
        def run(conn: sqlite3.Connection) -> list[tuple[dict[str, Any], int]]:
            rows = conn.execute("SELECT doc, version FROM plans WHERE status = 'ACTIVE' ORDER BY id")
            return [(json.loads(r["doc"]), int(r["version"])) for r in rows]

        return await self._db.read(run)

    async def update_plan(
        self,
        *,
        plan: dict[str, Any],
        expected_version: int,
        records: list[PlanRecord],
        idempotency: NewIdempotency | None,
        events: list[dict[str, Any]],
    ) -> StoredResponse | None:
        def run(conn: sqlite3.Connection) -> StoredResponse | None:
            if idempotency is not None:
                winner = self._claim_key(conn, idempotency)
                if winner is not None:
                    return winner
            cur = conn.execute(
                "UPDATE plans SET doc = ?, status = ?, version = version + 1 WHERE id = ? AND customer_id = ?"
                " AND version = ?",
                (dumps(plan), plan["status"], plan["id"], plan["customerId"], expected_version),
            )
            if cur.rowcount != 1:
                raise ConcurrentUpdate("the plan changed meanwhile; try again", field="planId")
            if plan["status"] in RELEASING_STATUSES:  # refunded in full: the order may be financed again
                self._release_claim(conn, plan, column="plan_id")
            self._add_records(conn, records)
            self._add_events(conn, events)
            return None

        return await self._db.write(run)

    async def list_records(self, customer_id: str, plan_id: str, kind: str) -> list[dict[str, Any]]:
        def run(conn: sqlite3.Connection) -> list[dict[str, Any]]:
            rows = conn.execute(
                "SELECT doc FROM plan_records WHERE plan_id = ? AND customer_id = ? AND kind = ?"
                " ORDER BY created_at, id",
                (plan_id, customer_id, kind),
            )
            return [json.loads(r["doc"]) for r in rows]

        return await self._db.read(run)

    # -- outbox ---------------------------------------------------------------------------

    async def pending_events(self, *, limit: int) -> list[dict[str, Any]]:
        def run(conn: sqlite3.Connection) -> list[dict[str, Any]]:
            rows = conn.execute("SELECT doc FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT ?", (limit,))
            return [json.loads(r["doc"]) for r in rows]

        return await self._db.read(run)

    async def mark_published(self, event_ids: list[str], *, published_at: datetime) -> None:
        def run(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "UPDATE outbox SET published_at = ? WHERE id = ? AND published_at IS NULL",
                [(iso(published_at), eid) for eid in event_ids],
            )

        await self._db.write(run)

    async def purge_expired(self, *, now: datetime) -> int:
        def run(conn: sqlite3.Connection) -> int:
            return conn.execute("DELETE FROM idempotency WHERE expires_at <= ?", (iso(now),)).rowcount

        return await self._db.write(run)
