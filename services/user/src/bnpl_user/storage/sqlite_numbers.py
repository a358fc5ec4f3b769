"""Verified phone numbers and their owners on SQLite (mixed into ``SqliteUserStore``).

Table ``verified_numbers``: one row per number (``number_key``, an HMAC of it), the account
that first verified it and its person key. Created in ``prepare``.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from bnpl_common.sqlite import SqliteDatabase
from bnpl_common.timefmt import format_instant

from bnpl_user.verification.model import NumberOwner

NUMBERS_SCHEMA = """
CREATE TABLE IF NOT EXISTS verified_numbers (
    number_key TEXT PRIMARY KEY,
    sub TEXT NOT NULL,
    person_key TEXT NOT NULL,
    claimed_at TEXT NOT NULL
)
"""


def create_numbers_table(conn: sqlite3.Connection) -> None:
    conn.execute(NUMBERS_SCHEMA)


class SqliteNumberClaims:
    """The number-owner part of the verification port."""

    _db: SqliteDatabase

    async def number_owner(self, number_key: str) -> NumberOwner | None:
        def run(conn: sqlite3.Connection) -> NumberOwner | None:
            row = conn.execute(
                "SELECT sub, person_key FROM verified_numbers WHERE number_key = ?", (number_key,)
            ).fetchone()
            return NumberOwner(row["sub"], row["person_key"]) if row else None

        return await self._db.read(run)

    async def claim_number(self, number_key: str, owner: NumberOwner, *, replacing: str | None = None) -> None:
        def run(conn: sqlite3.Connection) -> None:
            now = format_instant(datetime.now(UTC))
            conn.execute(
                "INSERT INTO verified_numbers (number_key, sub, person_key, claimed_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (number_key) DO UPDATE SET sub = excluded.sub, person_key = excluded.person_key,"
                " claimed_at = excluded.claimed_at WHERE verified_numbers.sub = ?",
                (number_key, owner.sub, owner.person_key, now, replacing if replacing is not None else ""),
            )

        await self._db.write(run)
