"""Checkout sessions on SQLite (mixed into :class:`~bnpl_credit.storage.sqlite.SqliteStore`).

``write_checkout`` is also called inside the store's decision, confirmation and plan-update
transactions, so a session moves together with its application or plan."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from bnpl_common.idempotency import StoredResponse
from bnpl_common.sqlite import SqliteDatabase
from bnpl_common.timefmt import format_instant

from bnpl_credit.checkouts.model import CheckoutSession
from bnpl_credit.checkouts.ports import CheckoutChanged, CheckoutCursor, CheckoutWrite
from bnpl_credit.events.model import Event
from bnpl_credit.idempotency import NewIdempotency
from bnpl_credit.storage.documents import dumps, loads
from bnpl_credit.storage.merchant_documents import checkout_doc, checkout_from_doc

CHECKOUT_SCHEMA = """
CREATE TABLE IF NOT EXISTS checkouts (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    token TEXT NOT NULL UNIQUE,
    application_id TEXT UNIQUE,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL,
    deadline TEXT,
    version INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS checkouts_by_merchant ON checkouts (merchant_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS checkouts_by_deadline ON checkouts (deadline) WHERE deadline IS NOT NULL;
"""


def _session(row: sqlite3.Row) -> CheckoutSession:
    return checkout_from_doc(loads(row["doc"]), int(row["version"]))


class SqliteCheckouts:
    """``CheckoutStore`` on the store's SQLite file."""

    _db: SqliteDatabase

    # provided by SqliteStore
    def _claim_key(self, conn: sqlite3.Connection, record: NewIdempotency) -> StoredResponse | None:
        raise NotImplementedError

    @staticmethod
    def _add_events(conn: sqlite3.Connection, events: Sequence[Event]) -> None:
        raise NotImplementedError

    def write_checkout(self, conn: sqlite3.Connection, write: CheckoutWrite) -> None:
        """Store the session on the version it was read at (or as new), with its events."""
        s = write.session
        deadline = s.deadline()
        values = (
            s.application_id,
            str(s.status),
            format_instant(deadline) if deadline else None,
            s.version + 1,
            dumps(checkout_doc(s)),
        )
        if s.version == 0:
            try:
                conn.execute(
                    "INSERT INTO checkouts (application_id, status, deadline, version, doc, id, merchant_id, token,"
                    " created_at) VALUES (?,?,?,?,?,?,?,?,?)",
                    (*values, s.id, s.merchant_id, s.token, format_instant(s.created_at)),
                )
            except sqlite3.IntegrityError as exc:
                raise CheckoutChanged("the checkout exists", field="checkoutId") from exc
        else:
            try:
                changed = conn.execute(
                    "UPDATE checkouts SET application_id = ?, status = ?, deadline = ?, version = ?, doc = ?"
                    " WHERE id = ? AND version = ?",
                    (*values, s.id, s.version),
                )
            except sqlite3.IntegrityError as exc:  # the application belongs to another session
                raise CheckoutChanged("the checkout changed meanwhile", field="checkoutId") from exc
            if changed.rowcount != 1:
                raise CheckoutChanged("the checkout changed meanwhile; try again", field="checkoutId")
        self._add_events(conn, write.events)

    async def save_checkout(self, write: CheckoutWrite, *, idempotency: NewIdempotency | None) -> StoredResponse | None:
        def run(conn: sqlite3.Connection) -> StoredResponse | None:
            if idempotency is not None:
                winner = self._claim_key(conn, idempotency)
                if winner is not None:
                    return winner
            self.write_checkout(conn, write)
            return None

        return await self._db.write(run)

    async def _one(self, where: str, value: str) -> CheckoutSession | None:
        def run(conn: sqlite3.Connection) -> CheckoutSession | None:
            row = conn.execute(f"SELECT doc, version FROM checkouts WHERE {where} = ?", (value,)).fetchone()  # noqa: S608 - a column name of ours
            return _session(row) if row else None

        return await self._db.read(run)

    async def get_checkout(self, checkout_id: str) -> CheckoutSession | None:
        return await self._one("id", checkout_id)

    async def checkout_by_token(self, token: str) -> CheckoutSession | None:
        return await self._one("token", token)

    async def checkout_by_application(self, application_id: str) -> CheckoutSession | None:
        return await self._one("application_id", application_id)

    async def checkout_ids_of(self, application_ids: Sequence[str]) -> dict[str, str]:
        ids = list(dict.fromkeys(application_ids))[:100]

        def run(conn: sqlite3.Connection) -> dict[str, str]:
            if not ids:
                return {}
            marks = ",".join("?" * len(ids))
            rows = conn.execute(
                f"SELECT application_id, id FROM checkouts WHERE application_id IN ({marks})",  # noqa: S608 - placeholders only
                ids,
            )
            return {r["application_id"]: r["id"] for r in rows}

        return await self._db.read(run, scan=True)

    async def list_checkouts(
        self, merchant_id: str, *, limit: int, after: CheckoutCursor | None
    ) -> list[CheckoutSession]:
        def run(conn: sqlite3.Connection) -> list[CheckoutSession]:
            if after is None:
                rows = conn.execute(
                    "SELECT doc, version FROM checkouts WHERE merchant_id = ?"
                    " ORDER BY created_at DESC, id DESC LIMIT ?",
                    (merchant_id, limit),
                )
            else:
                rows = conn.execute(
                    "SELECT doc, version FROM checkouts WHERE merchant_id = ? AND (created_at, id) < (?, ?)"
                    " ORDER BY created_at DESC, id DESC LIMIT ?",
                    (merchant_id, format_instant(after.created_at), after.checkout_id, limit),
                )
            return [_session(r) for r in rows]

        return await self._db.read(run, scan=True)

    async def due_checkouts(self, *, now: datetime, limit: int) -> list[CheckoutSession]:
        def run(conn: sqlite3.Connection) -> list[CheckoutSession]:
            rows = conn.execute(
                "SELECT doc, version FROM checkouts WHERE deadline IS NOT NULL AND deadline <= ?"
                " ORDER BY deadline, id LIMIT ?",
                (format_instant(now), limit),
            )
            return [_session(r) for r in rows]

        return await self._db.read(run, scan=True)
