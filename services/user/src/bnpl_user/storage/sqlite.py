"""The embedded adapter: every port of the service on one SQLite file (``USER_STORE=sqlite``).

The unit of work is :class:`bnpl_common.sqlite.SqliteDatabase` (WAL, one transaction per
call, ``BEGIN IMMEDIATE`` for writes). Each write checks, inside its transaction, that the
rows are still as the service read them (a profile's or usage log's ``version``, a
challenge's id and remaining tries) and raises ``ConcurrentUpdate`` otherwise, exactly
as the DynamoDB adapter's condition expressions do.

Tables: ``profiles`` (details as JSON, ``version``), ``idempotency_keys``,
``verification_challenges`` (one row per customer), ``otp_usage`` (one row per code sent
or wrong code, per scope ``customer:<sub>`` or ``destination:<HMAC of the number>``) and
``otp_usage_versions``. Files made by earlier versions are migrated in :meth:`prepare`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from bnpl_common.errors import ConcurrentUpdate
from bnpl_common.idempotency import StoredResponse
from bnpl_common.sqlite import SqliteDatabase
from bnpl_common.timefmt import epoch_micros, format_instant, from_epoch_micros, parse_instant

from bnpl_user.profiles.model import CreateOutcome, CreateResult, Profile
from bnpl_user.storage import profile_json
from bnpl_user.storage.sqlite_numbers import SqliteNumberClaims, create_numbers_table
from bnpl_user.storage.sqlite_staff import STAFF_SCHEMA, SqliteStaffReads
from bnpl_user.verification.model import Challenge, ScopeKind, UsageLog, UsageScope, VerificationState

SCHEMA = """
CREATE TABLE IF NOT EXISTS profiles (
    sub TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    phone_verified INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
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
    attempts_remaining INTEGER NOT NULL,
    max_attempts INTEGER
);
CREATE TABLE IF NOT EXISTS otp_usage (
    scope TEXT NOT NULL,
    kind TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS otp_usage_by_scope ON otp_usage (scope, kind, at);
CREATE TABLE IF NOT EXISTS otp_usage_versions (
    scope TEXT PRIMARY KEY,
    version INTEGER NOT NULL
);
"""

# Columns added since the first version of the schema: (table, column, definition).
_ADDED_COLUMNS = (
    ("profiles", "version", "INTEGER NOT NULL DEFAULT 1"),
    # NULL in rows written before it: their allowance is what was left (nothing spent yet).
    ("verification_challenges", "max_attempts", "INTEGER"),
)

_SENT, _WRONG = "challenge", "wrong_code"  # otp_usage.kind


def _migrate(conn: sqlite3.Connection) -> None:
    for table, column, definition in _ADDED_COLUMNS:
        present = {row["name"] for row in conn.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")


def _scope(scope: UsageScope) -> str:
    return f"{scope.kind.value}:{scope.key}"


def _profile(row: sqlite3.Row) -> Profile:
    return Profile(
        sub=row["sub"],
        details=profile_json.loads(row["data"]),
        phone_verified=bool(row["phone_verified"]),
        created_at=parse_instant(row["created_at"]),
        updated_at=parse_instant(row["updated_at"]),
        version=int(row["version"]),
        **profile_json.finances(row["data"]),
    )


def _challenge(row: sqlite3.Row) -> Challenge:
    remaining = int(row["attempts_remaining"])
    allowance = remaining if row["max_attempts"] is None else int(row["max_attempts"])
    return Challenge(
        id=row["id"],
        sub=row["sub"],
        code_hash=row["code_hash"],
        phone_number=row["phone_number"],
        created_at=parse_instant(row["created_at"]),
        expires_at=parse_instant(row["expires_at"]),
        max_attempts=allowance,
        attempts=allowance - remaining,
    )


def _select_profile(conn: sqlite3.Connection, sub: str) -> Profile | None:
    row = conn.execute("SELECT * FROM profiles WHERE sub = ?", (sub,)).fetchone()
    return _profile(row) if row else None


def _select_challenge(conn: sqlite3.Connection, sub: str) -> Challenge | None:
    row = conn.execute("SELECT * FROM verification_challenges WHERE sub = ?", (sub,)).fetchone()
    return _challenge(row) if row else None


def _select_response(conn: sqlite3.Connection, sub: str, key: str) -> StoredResponse | None:
    row = conn.execute(
        "SELECT fingerprint, status_code, response FROM idempotency_keys WHERE sub = ? AND key = ?", (sub, key)
    ).fetchone()
    if row is None:
        return None
    return StoredResponse(row["fingerprint"], int(row["status_code"]), json.loads(row["response"]))


def _select_usage(conn: sqlite3.Connection, scope: UsageScope) -> UsageLog:
    name = _scope(scope)
    version = conn.execute("SELECT version FROM otp_usage_versions WHERE scope = ?", (name,)).fetchone()
    moments: dict[str, list[int]] = {_SENT: [], _WRONG: []}
    for row in conn.execute("SELECT kind, at FROM otp_usage WHERE scope = ? ORDER BY at", (name,)):
        moments.setdefault(row["kind"], []).append(int(row["at"]))
    return UsageLog(
        scope=scope,
        sent=tuple(from_epoch_micros(m) for m in moments[_SENT]),
        wrong=tuple(from_epoch_micros(m) for m in moments[_WRONG]),
        version=int(version["version"]) if version else 0,
    )


def _write_usage(conn: sqlite3.Connection, log: UsageLog) -> None:
    if _select_usage(conn, log.scope).version != log.version:
        raise ConcurrentUpdate()
    name = _scope(log.scope)
    conn.execute("DELETE FROM otp_usage WHERE scope = ?", (name,))
    conn.executemany(
        "INSERT INTO otp_usage (scope, kind, at) VALUES (?, ?, ?)",
        [(name, _SENT, epoch_micros(m)) for m in log.sent] + [(name, _WRONG, epoch_micros(m)) for m in log.wrong],
    )
    conn.execute(
        "INSERT INTO otp_usage_versions (scope, version) VALUES (?, ?)"
        " ON CONFLICT (scope) DO UPDATE SET version = excluded.version",
        (name, log.version + 1),
    )


def _write_profile(conn: sqlite3.Connection, profile: Profile) -> Profile:
    stored = conn.execute(
        "UPDATE profiles SET data = ?, phone_verified = ?, updated_at = ?, version = ? WHERE sub = ? AND version = ?",
        (
            profile_json.dumps_profile(profile),
            int(profile.phone_verified),
            format_instant(profile.updated_at),
            profile.version + 1,
            profile.sub,
            profile.version,
        ),
    )
    if stored.rowcount != 1:
        raise ConcurrentUpdate()
    return replace(profile, version=profile.version + 1)


def _same_challenge(current: Challenge | None, expected: Challenge | None) -> bool:
    if current is None or expected is None:
        return current is expected
    return (current.id, current.attempts) == (expected.id, expected.attempts)


class SqliteUserStore(SqliteNumberClaims, SqliteStaffReads):
    """``UserStore`` on one SQLite file."""

    def __init__(self, path: str | Path, *, busy_timeout: float = 5.0) -> None:
        # WAL + NORMAL: a commit survives a process crash; only a power cut can lose the last ones.
        self._db = SqliteDatabase(
            path, schema_sql=SCHEMA + STAFF_SCHEMA, busy_timeout=busy_timeout, synchronous="NORMAL"
        )

    async def prepare(self) -> None:
        await self._db.create_schema()
        await self._db.write(_migrate)
        await self._db.write(create_numbers_table)

    async def ping(self) -> bool:
        # a store that cannot write is not ready, though it still reads (a full disk)
        return await self._db.writable()

    # -- profiles -----------------------------------------------------------------------

    async def get_profile(self, sub: str) -> Profile | None:
        return await self._db.read(lambda conn: _select_profile(conn, sub))

    async def get_response(self, sub: str, key: str) -> StoredResponse | None:
        return await self._db.read(lambda conn: _select_response(conn, sub, key))

    async def create_profile(self, profile: Profile, *, key: str, response: StoredResponse) -> CreateResult:
        def tx(conn: sqlite3.Connection) -> CreateResult:
            stored = _select_response(conn, profile.sub, key)
            if stored is not None:
                return CreateResult(CreateOutcome.REPLAYED, stored)
            if conn.execute("SELECT 1 FROM profiles WHERE sub = ?", (profile.sub,)).fetchone():
                return CreateResult(CreateOutcome.PROFILE_EXISTS)
            conn.execute(
                "INSERT INTO profiles (sub, data, phone_verified, created_at, updated_at, version)"
                " VALUES (?, ?, ?, ?, ?, 1)",
                (
                    profile.sub,
                    profile_json.dumps_profile(profile),
                    int(profile.phone_verified),
                    format_instant(profile.created_at),
                    format_instant(profile.updated_at),
                ),
            )
            conn.execute(
                "INSERT INTO idempotency_keys (sub, key, fingerprint, status_code, response, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    profile.sub,
                    key,
                    response.fingerprint,
                    response.status_code,
                    json.dumps(response.body),
                    format_instant(profile.created_at),
                ),
            )
            return CreateResult(CreateOutcome.CREATED, response)

        return await self._db.write(tx)

    async def save_profile(self, profile: Profile, *, drop_challenge: bool = False) -> Profile:
        def tx(conn: sqlite3.Connection) -> Profile:
            saved = _write_profile(conn, profile)
            if drop_challenge:
                conn.execute("DELETE FROM verification_challenges WHERE sub = ?", (profile.sub,))
            return saved

        return await self._db.write(tx)

    # -- phone verification ---------------------------------------------------------------

    async def get_challenge(self, sub: str) -> Challenge | None:
        return await self._db.read(lambda conn: _select_challenge(conn, sub))

    async def get_usage(self, scope: UsageScope) -> UsageLog:
        return await self._db.read(lambda conn: _select_usage(conn, scope))

    async def verification_state(self, sub: str) -> VerificationState:
        def tx(conn: sqlite3.Connection) -> VerificationState:
            return VerificationState(
                profile=_select_profile(conn, sub),
                challenge=_select_challenge(conn, sub),
                usage=_select_usage(conn, UsageScope(ScopeKind.CUSTOMER, sub)),
            )

        return await self._db.read(tx)

    async def save_challenge(
        self, challenge: Challenge, *, replacing: Challenge | None, profile: Profile, usage: Sequence[UsageLog]
    ) -> None:
        def tx(conn: sqlite3.Connection) -> None:
            if not _same_challenge(_select_challenge(conn, challenge.sub), replacing):
                raise ConcurrentUpdate()
            current = conn.execute("SELECT version FROM profiles WHERE sub = ?", (profile.sub,)).fetchone()
            if current is None or int(current["version"]) != profile.version:
                raise ConcurrentUpdate()
            for log in usage:
                _write_usage(conn, log)
            conn.execute(
                "INSERT OR REPLACE INTO verification_challenges"
                " (sub, id, code_hash, phone_number, created_at, expires_at, attempts_remaining, max_attempts)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    challenge.sub,
                    challenge.id,
                    challenge.code_hash,
                    challenge.phone_number,
                    format_instant(challenge.created_at),
                    format_instant(challenge.expires_at),
                    challenge.attempts_remaining,
                    challenge.max_attempts,
                ),
            )

        await self._db.write(tx)

    async def discard_challenge(self, sub: str, challenge_id: str) -> None:
        await self._db.write(
            lambda conn: conn.execute(
                "DELETE FROM verification_challenges WHERE sub = ? AND id = ?", (sub, challenge_id)
            )
        )

    async def spend_attempt(self, challenge: Challenge, *, usage: UsageLog) -> None:
        def tx(conn: sqlite3.Connection) -> None:
            spent = conn.execute(
                "UPDATE verification_challenges SET attempts_remaining = ?"
                " WHERE sub = ? AND id = ? AND attempts_remaining = ?",
                (challenge.attempts_remaining, challenge.sub, challenge.id, challenge.attempts_remaining + 1),
            )
            if spent.rowcount != 1:
                raise ConcurrentUpdate()
            _write_usage(conn, usage)

        await self._db.write(tx)

    async def verify_phone(self, challenge: Challenge, profile: Profile) -> Profile:
        def tx(conn: sqlite3.Connection) -> Profile:
            gone = conn.execute(
                "DELETE FROM verification_challenges WHERE sub = ? AND id = ? AND attempts_remaining = ?",
                (challenge.sub, challenge.id, challenge.attempts_remaining),
            )
            if gone.rowcount != 1:
                raise ConcurrentUpdate()
            return _write_profile(conn, profile)

        return await self._db.write(tx)
