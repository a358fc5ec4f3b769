"""Persons and their accounts on SQLite (mixed into ``SqliteStore``).

Table ``person_members``: one row per account (``customer_id``) with its person's key and when
it was linked; the person's members are its rows, first linked first.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from bnpl_common.sqlite import SqliteDatabase
from bnpl_common.timefmt import format_instant

from bnpl_credit.credit_line.ports import PersonLine

PERSONS_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS person_members (
        customer_id TEXT PRIMARY KEY,
        person_key TEXT NOT NULL,
        linked_at TEXT NOT NULL,
        seq INTEGER NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS person_members_by_person ON person_members (person_key, seq)",
)


def _line(conn: sqlite3.Connection, customer_id: str) -> PersonLine | None:
    row = conn.execute("SELECT person_key FROM person_members WHERE customer_id = ?", (customer_id,)).fetchone()
    if row is None:
        return None
    members = conn.execute(
        "SELECT customer_id FROM person_members WHERE person_key = ? ORDER BY seq", (row["person_key"],)
    ).fetchall()
    return PersonLine(row["person_key"], tuple(m["customer_id"] for m in members))


class SqlitePersons:
    """The person part of the credit-line port."""

    _db: SqliteDatabase

    def _create_persons_schema(self) -> None:
        def run(conn: sqlite3.Connection) -> None:
            for statement in PERSONS_SCHEMA:
                conn.execute(statement)

        self._db.run_sync(run, write=True)

    async def link_person(self, person_key: str, customer_id: str, *, now: datetime) -> PersonLine:
        # Linked once, on the first application: every later one only reads (a write transaction
        # on each decision took the file's write lock for nothing and queued behind the others)
        linked_before = await self.person_of(customer_id)
        if linked_before is not None:
            return linked_before

        def run(conn: sqlite3.Connection) -> PersonLine:
            line = _line(conn, customer_id)
            if line is not None:
                return line
            seq = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM person_members").fetchone()["next"]
            conn.execute(
                "INSERT INTO person_members (customer_id, person_key, linked_at, seq) VALUES (?, ?, ?, ?)",
                (customer_id, person_key, format_instant(now), seq),
            )
            linked = _line(conn, customer_id)
            assert linked is not None  # written just above, in this transaction
            return linked

        return await self._db.write(run)

    async def person_of(self, customer_id: str) -> PersonLine | None:
        return await self._db.read(lambda conn: _line(conn, customer_id))
