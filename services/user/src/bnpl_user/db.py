"""SQLite plumbing for the repositories: one connection per call, in a worker thread.

WAL mode so readers never wait for the writer; writes take ``BEGIN IMMEDIATE`` so two
requests cannot interleave a read-check-write; every call is one transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

import anyio.to_thread

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS profiles (
    sub TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    phone_verified INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    sub TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status_code INTEGER NOT NULL,
    response TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (sub, key)
);
CREATE TABLE IF NOT EXISTS verification_challenges (
    sub TEXT PRIMARY KEY,
    id TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    phone_number TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    attempts_remaining INTEGER NOT NULL
);
"""


class SqliteDatabase:
    """Runs functions against one SQLite file, each in its own transaction."""

    def __init__(self, path: Path, *, busy_timeout: float = 5.0) -> None:
        self.path = Path(path)
        self._timeout = busy_timeout

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves.
        conn = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None)
        conn.row_factory = sqlite3.Row
        # WAL + NORMAL: a commit survives a process crash; only a power cut can lose the last ones.
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def _create(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = self._connect()
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
        finally:
            conn.close()

    async def create_schema(self) -> None:
        """Create the file, its parent folders and the tables (idempotent)."""
        await anyio.to_thread.run_sync(self._create)

    def _run(self, fn: Callable[[sqlite3.Connection], T], write: bool) -> T:
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
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
        """Run ``fn`` in a read transaction."""
        return await anyio.to_thread.run_sync(partial(self._run, fn, False))

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in a write transaction: all of it is committed or none of it."""
        return await anyio.to_thread.run_sync(partial(self._run, fn, True))
