"""The shop's own records in one SQLite file: its orders, the signed returns it has consumed
(each is accepted once) and the webhooks it received (deduplicated on ``webhook-id``)."""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
  reference TEXT PRIMARY KEY,
  checkout_id TEXT UNIQUE,
  amount INTEGER NOT NULL,
  currency TEXT NOT NULL,
  items TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS consumed_returns (
  webhook_id TEXT PRIMARY KEY,
  checkout_id TEXT NOT NULL,
  consumed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS webhooks (
  webhook_id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  checkout_id TEXT,
  payload TEXT NOT NULL,
  received_at TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class Order:
    reference: str
    checkout_id: str | None
    amount: int
    currency: str
    items: list[dict[str, Any]]
    created_at: str


@dataclass(frozen=True, slots=True)
class ReceivedWebhook:
    webhook_id: str
    type: str
    checkout_id: str | None
    received_at: str


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ShopStore:
    """A small thread-safe wrapper: the shop's handlers run in FastAPI's thread pool."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def add_order(self, *, reference: str, amount: int, currency: str, items: list[dict[str, Any]]) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO orders (reference, amount, currency, items, created_at) VALUES (?, ?, ?, ?, ?)",
                (reference, amount, currency, json.dumps(items), _now()),
            )

    def attach_checkout(self, reference: str, checkout_id: str) -> None:
        with self._lock:
            self._db.execute("UPDATE orders SET checkout_id = ? WHERE reference = ?", (checkout_id, reference))

    def order(self, reference: str) -> Order | None:
        return self._one("SELECT * FROM orders WHERE reference = ?", reference)

    def order_by_checkout(self, checkout_id: str) -> Order | None:
        return self._one("SELECT * FROM orders WHERE checkout_id = ?", checkout_id)

    def orders(self, limit: int = 50) -> list[Order]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM orders ORDER BY created_at DESC, rowid DESC LIMIT ?", (limit,)
            ).fetchall()
        return [_order(row) for row in rows]

    def consume_return(self, webhook_id: str, checkout_id: str) -> bool:
        """True the first time a signed return is seen; False for a replay."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO consumed_returns (webhook_id, checkout_id, consumed_at) VALUES (?, ?, ?)",
                (webhook_id, checkout_id, _now()),
            )
        return cursor.rowcount == 1

    def record_webhook(self, *, webhook_id: str, type: str, checkout_id: str | None, payload: bytes) -> bool:
        """True when the event is new; a redelivery of the same ``webhook-id`` is kept once."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO webhooks (webhook_id, type, checkout_id, payload, received_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (webhook_id, type, checkout_id, payload.decode(), _now()),
            )
        return cursor.rowcount == 1

    def webhooks(self, checkout_id: str | None = None) -> list[ReceivedWebhook]:
        query = "SELECT webhook_id, type, checkout_id, received_at FROM webhooks"
        args: tuple[Any, ...] = ()
        if checkout_id is not None:
            query += " WHERE checkout_id = ?"
            args = (checkout_id,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY rowid", args).fetchall()
        return [ReceivedWebhook(*row) for row in rows]

    def _one(self, query: str, value: str) -> Order | None:
        with self._lock:
            row = self._db.execute(query, (value,)).fetchone()
        return _order(row) if row else None


def _order(row: tuple[Any, ...]) -> Order:
    reference, checkout_id, amount, currency, items, created_at = row
    return Order(reference, checkout_id, amount, currency, json.loads(items), created_at)
