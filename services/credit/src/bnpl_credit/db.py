"""The embedded SQLite store shared by the SQLite repositories (one file, WAL mode).

Each call opens its own connection in a worker thread; writes run in one ``BEGIN
IMMEDIATE`` transaction, so everything one request writes lands together or not at all.
Documents are stored as JSON next to the few columns that are queried, the same shape a
DynamoDB adapter stores as items.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

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
    customer_id TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status_code INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (customer_id, key)
);
CREATE TABLE IF NOT EXISTS credit_lines (
    customer_id TEXT PRIMARY KEY,
    credit_limit INTEGER NOT NULL,
    currency TEXT NOT NULL,
    application_id TEXT NOT NULL,
    set_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS plans (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    application_id TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL,
    version INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS plans_by_customer ON plans (customer_id, created_at DESC, id DESC);
CREATE TABLE IF NOT EXISTS payments (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    plan_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    doc TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """The first response given to an idempotency key."""

    fingerprint: str
    status_code: int
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class NewIdempotency:
    customer_id: str
    key: str
    fingerprint: str
    status_code: int
    body: dict[str, Any]
    created_at: str


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


class SqliteDatabase:
    """Opens connections, creates the schema, runs reads and write transactions off the loop."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
        conn.close()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._connect()
        try:
            return fn(conn)
        finally:
            conn.close()

    def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result
        finally:
            conn.close()

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.to_thread(self._read, fn)

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in one ``BEGIN IMMEDIATE`` transaction; any exception rolls it all back."""
        return await asyncio.to_thread(self._write, fn)

    async def ping(self) -> bool:
        try:
            return await self.read(lambda c: c.execute("SELECT 1").fetchone()[0] == 1)
        except sqlite3.Error:
            return False


def load_idempotency(conn: sqlite3.Connection, customer_id: str, key: str) -> StoredResponse | None:
    row = conn.execute(
        "SELECT fingerprint, status_code, body FROM idempotency WHERE customer_id = ? AND key = ?", (customer_id, key)
    ).fetchone()
    if row is None:
        return None
    return StoredResponse(row["fingerprint"], row["status_code"], json.loads(row["body"]))


def insert_idempotency(conn: sqlite3.Connection, record: NewIdempotency) -> None:
    conn.execute(
        "INSERT INTO idempotency (customer_id, key, fingerprint, status_code, body, created_at) VALUES (?,?,?,?,?,?)",
        (record.customer_id, record.key, record.fingerprint, record.status_code, dumps(record.body), record.created_at),
    )
