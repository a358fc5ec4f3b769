"""Webhook deliveries in the SQLite credit store (mixed into :class:`SqliteStore`).

One row per delivery; the columns are what is queried (the merchant's listing, the due queue
per merchant, the order within a checkout) and ``version``, which every save checks.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime

from bnpl_common.idempotency import StoredResponse
from bnpl_common.sqlite import SqliteDatabase
from bnpl_common.timefmt import format_instant

from bnpl_credit.idempotency import NewIdempotency
from bnpl_credit.storage.documents import dumps, loads
from bnpl_credit.storage.webhook_documents import delivery_doc, delivery_from_doc
from bnpl_credit.webhooks.model import DeliveryStatus, WebhookDelivery
from bnpl_credit.webhooks.ports import DeliveryCursor

WEBHOOK_SCHEMA = """
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    ordering_key TEXT NOT NULL,
    sequence TEXT NOT NULL,
    status TEXT NOT NULL,
    next_attempt_at TEXT,
    created_at TEXT NOT NULL,
    version INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_by_merchant
    ON webhook_deliveries (merchant_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS webhook_deliveries_due
    ON webhook_deliveries (merchant_id, next_attempt_at) WHERE status = 'PENDING';
CREATE INDEX IF NOT EXISTS webhook_deliveries_in_order
    ON webhook_deliveries (merchant_id, ordering_key, sequence) WHERE status = 'PENDING';
"""


def _rows(rows: Sequence[sqlite3.Row]) -> list[WebhookDelivery]:
    return [delivery_from_doc(loads(r["doc"]), int(r["version"])) for r in rows]


class SqliteWebhookDeliveries:
    """``WebhookDeliveryStore`` on the credit store's SQLite file."""

    _db: SqliteDatabase
    _claim_key: Callable[[sqlite3.Connection, NewIdempotency], StoredResponse | None]

    async def add_deliveries(self, deliveries: Sequence[WebhookDelivery]) -> int:
        def run(conn: sqlite3.Connection) -> int:
            added = 0
            for d in deliveries:
                added += conn.execute(
                    "INSERT OR IGNORE INTO webhook_deliveries"
                    " (id, merchant_id, ordering_key, sequence, status, next_attempt_at, created_at, version, doc)"
                    " VALUES (?,?,?,?,?,?,?,?,?)",
                    (
                        d.id,
                        d.merchant_id,
                        d.ordering_key,
                        d.sequence,
                        str(d.status),
                        format_instant(d.next_attempt_at) if d.next_attempt_at else None,
                        format_instant(d.created_at),
                        d.version,
                        dumps(delivery_doc(d)),
                    ),
                ).rowcount
            return added

        return await self._db.write(run)

    async def get_delivery(self, merchant_id: str, delivery_id: str) -> WebhookDelivery | None:
        def run(conn: sqlite3.Connection) -> WebhookDelivery | None:
            rows = conn.execute(
                "SELECT doc, version FROM webhook_deliveries WHERE id = ? AND merchant_id = ?",
                (delivery_id, merchant_id),
            ).fetchall()
            return next(iter(_rows(rows)), None)

        return await self._db.read(run)

    async def list_deliveries(
        self, merchant_id: str, *, limit: int, after: DeliveryCursor | None
    ) -> list[WebhookDelivery]:
        def run(conn: sqlite3.Connection) -> list[WebhookDelivery]:
            if after is None:
                rows = conn.execute(
                    "SELECT doc, version FROM webhook_deliveries WHERE merchant_id = ?"
                    " ORDER BY created_at DESC, id DESC LIMIT ?",
                    (merchant_id, limit),
                ).fetchall()
            else:
                rows = conn.execute(
                    "SELECT doc, version FROM webhook_deliveries WHERE merchant_id = ? AND (created_at, id) < (?, ?)"
                    " ORDER BY created_at DESC, id DESC LIMIT ?",
                    (merchant_id, format_instant(after.created_at), after.delivery_id, limit),
                ).fetchall()
            return _rows(rows)

        return await self._db.read(run, scan=True)

    async def due_deliveries(self, merchant_id: str, *, now: datetime, limit: int) -> list[WebhookDelivery]:
        def run(conn: sqlite3.Connection) -> list[WebhookDelivery]:
            rows = conn.execute(
                "SELECT doc, version FROM webhook_deliveries WHERE merchant_id = ? AND status = 'PENDING'"
                " AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
                (merchant_id, format_instant(now), limit),
            ).fetchall()
            return _rows(rows)

        return await self._db.read(run, scan=True)

    async def first_pending(self, merchant_id: str, ordering_key: str) -> WebhookDelivery | None:
        def run(conn: sqlite3.Connection) -> WebhookDelivery | None:
            rows = conn.execute(
                "SELECT doc, version FROM webhook_deliveries WHERE merchant_id = ? AND ordering_key = ?"
                " AND status = 'PENDING' ORDER BY sequence LIMIT 1",
                (merchant_id, ordering_key),
            ).fetchall()
            return next(iter(_rows(rows)), None)

        return await self._db.read(run)

    async def save_delivery(
        self, delivery: WebhookDelivery, *, idempotency: NewIdempotency | None = None
    ) -> StoredResponse | bool:
        def run(conn: sqlite3.Connection) -> StoredResponse | bool:
            if idempotency is not None:
                winner = self._claim_key(conn, idempotency)
                if winner is not None:
                    return winner
            changed = conn.execute(
                "UPDATE webhook_deliveries SET status = ?, next_attempt_at = ?, version = version + 1, doc = ?"
                " WHERE id = ? AND merchant_id = ? AND version = ?",
                (
                    str(delivery.status),
                    format_instant(delivery.next_attempt_at)
                    if delivery.status is DeliveryStatus.PENDING and delivery.next_attempt_at
                    else None,
                    dumps(delivery_doc(delivery)),
                    delivery.id,
                    delivery.merchant_id,
                    delivery.version,
                ),
            )
            if changed.rowcount != 1:
                if idempotency is not None:  # nothing written: the key must not be kept either
                    raise _StaleDelivery()
                return False
            return True

        try:
            return await self._db.write(run)
        except _StaleDelivery:
            return False


class _StaleDelivery(Exception):
    """Rolls back a save whose version check failed (with its idempotency record)."""
