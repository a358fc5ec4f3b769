"""The user service's SQLite schema; the unit of work (one connection per call in a worker
thread, WAL, ``BEGIN IMMEDIATE`` writes, one transaction per call) is
:class:`bnpl_common.sqlite.SqliteDatabase`.
"""

from __future__ import annotations

from pathlib import Path

from bnpl_common.sqlite import SqliteDatabase

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
-- one row per challenge sent / wrong code, per customer ("customer:<sub>") and per phone number
-- ("destination:<HMAC of the number>"), for the rolling daily caps; older rows are dropped as
-- they are counted
CREATE TABLE IF NOT EXISTS otp_usage (
    scope TEXT NOT NULL,
    kind TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS otp_usage_by_scope ON otp_usage (scope, kind, at);
"""


def open_database(path: Path, *, busy_timeout: float = 5.0) -> SqliteDatabase:
    """The profiles database at ``path`` (call ``create_schema()`` before first use)."""
    # WAL + NORMAL: a commit survives a process crash; only a power cut can lose the last ones.
    return SqliteDatabase(path, schema_sql=SCHEMA, busy_timeout=busy_timeout, synchronous="NORMAL")


__all__ = ["SCHEMA", "open_database"]
