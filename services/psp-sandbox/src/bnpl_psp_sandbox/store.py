"""The sandbox's state in one SQLite file: Stripe-shaped objects as JSON documents, the events
still to deliver (an outbox written in the same transaction as the change), and the
idempotency records."""

from __future__ import annotations

import json
import secrets
import sqlite3
import string
import time
from dataclasses import dataclass
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  body TEXT NOT NULL,
  private TEXT NOT NULL DEFAULT '{}',
  due REAL
);
CREATE INDEX IF NOT EXISTS objects_due ON objects (due) WHERE due IS NOT NULL;
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT UNIQUE NOT NULL,
  body TEXT NOT NULL,
  delivered INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt REAL NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS events_pending ON events (delivered, next_attempt);
CREATE TABLE IF NOT EXISTS idempotency (
  key TEXT PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  status INTEGER NOT NULL,
  body TEXT NOT NULL,
  created REAL NOT NULL
);
"""

API_VERSION = "2026-10-28.endive"
_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    return f"{prefix}_{''.join(secrets.choice(_ALPHABET) for _ in range(length))}"


@dataclass(frozen=True, slots=True)
class Stored:
    body: dict[str, Any]
    private: dict[str, Any]


def get(conn: sqlite3.Connection, object_id: str, kind: str) -> Stored | None:
    row = conn.execute("SELECT body, private FROM objects WHERE id = ? AND type = ?", (object_id, kind)).fetchone()
    return Stored(json.loads(row["body"]), json.loads(row["private"])) if row else None


def put(
    conn: sqlite3.Connection, body: dict[str, Any], private: dict[str, Any] | None = None, *, due: float | None = None
) -> None:
    conn.execute(
        "INSERT INTO objects (id, type, body, private, due) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(id) DO UPDATE SET body = excluded.body, private = excluded.private, due = excluded.due",
        (body["id"], body["object"], json.dumps(body), json.dumps(private or {}), due),
    )


def due_objects(conn: sqlite3.Connection, now: float) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    rows = conn.execute("SELECT body, private FROM objects WHERE due IS NOT NULL AND due <= ?", (now,)).fetchall()
    return [(json.loads(r["body"]), json.loads(r["private"])) for r in rows]


def add_event(conn: sqlite3.Connection, kind: str, obj: dict[str, Any], *, idempotency_key: str | None) -> None:
    """Record an event in the same transaction as the change it reports (delivered later)."""
    event = {
        "id": new_id("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "created": int(time.time()),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": idempotency_key},
        "type": kind,
    }
    conn.execute("INSERT INTO events (id, body) VALUES (?, ?)", (event["id"], json.dumps(event)))


def get_event(conn: sqlite3.Connection, event_id: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT body FROM events WHERE id = ?", (event_id,)).fetchone()
    return json.loads(row["body"]) if row else None


def list_events(conn: sqlite3.Connection, *, kind: str | None, limit: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT body FROM events WHERE ? IS NULL OR json_extract(body, '$.type') = ? ORDER BY seq DESC LIMIT ?",
        (kind, kind, limit),
    ).fetchall()
    return [json.loads(r["body"]) for r in rows]


def pending_events(conn: sqlite3.Connection, now: float, max_attempts: int) -> list[tuple[str, str, int]]:
    rows = conn.execute(
        "SELECT id, body, attempts FROM events WHERE delivered = 0 AND next_attempt <= ? AND attempts < ? "
        "ORDER BY seq LIMIT 50",
        (now, max_attempts),
    ).fetchall()
    return [(r["id"], r["body"], r["attempts"]) for r in rows]


def mark_delivered(conn: sqlite3.Connection, event_id: str) -> None:
    conn.execute("UPDATE events SET delivered = 1, attempts = attempts + 1 WHERE id = ?", (event_id,))


def mark_failed(conn: sqlite3.Connection, event_id: str, next_attempt: float) -> None:
    conn.execute("UPDATE events SET attempts = attempts + 1, next_attempt = ? WHERE id = ?", (next_attempt, event_id))


def idempotent_result(conn: sqlite3.Connection, key: str) -> tuple[str, int, dict[str, Any]] | None:
    row = conn.execute("SELECT fingerprint, status, body FROM idempotency WHERE key = ?", (key,)).fetchone()
    return (row["fingerprint"], row["status"], json.loads(row["body"])) if row else None


def save_idempotent_result(
    conn: sqlite3.Connection, key: str, fingerprint: str, status: int, body: dict[str, Any]
) -> None:
    conn.execute(
        "INSERT INTO idempotency (key, fingerprint, status, body, created) VALUES (?, ?, ?, ?, ?)",
        (key, fingerprint, status, json.dumps(body), time.time()),
    )
