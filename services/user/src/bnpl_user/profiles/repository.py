"""Storage of profiles, their idempotency records and their phone challenges.

``ProfileRepository`` is the port; ``SqliteProfileRepository`` the embedded adapter
(``bnpl_user.storage.dynamodb.DynamoProfileRepository`` the DynamoDB one). Every method is one transaction, and
the methods that must check-then-write (create, update, attempt) do so atomically:
the business rule comes in as a plain function that runs inside the transaction.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, Protocol

from bnpl_common.sqlite import SqliteDatabase

from bnpl_user.profiles.schemas import ProfileInput


@dataclass(frozen=True, slots=True)
class ProfileRecord:
    sub: str
    data: ProfileInput
    phone_verified: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """What an idempotent call answered the first time."""

    fingerprint: str
    status_code: int
    body: dict[str, Any]


class CreateOutcome(Enum):
    CREATED = "created"
    REPLAYED = "replayed"  # the key was used before: ``response`` is the stored answer
    PROFILE_EXISTS = "profile_exists"


@dataclass(frozen=True, slots=True)
class CreateResult:
    outcome: CreateOutcome
    response: StoredResponse | None = None


@dataclass(frozen=True, slots=True)
class Challenge:
    """One live phone challenge per customer; only the code's HMAC is kept."""

    id: str
    sub: str
    code_hash: str
    phone_number: str
    created_at: datetime
    expires_at: datetime
    attempts_remaining: int


@dataclass(frozen=True, slots=True)
class DailyCaps:
    """Caps over a rolling ``window`` that stop one-time codes being guessed by asking for new
    ones, and the service being used to send SMS to anyone's number."""

    window: timedelta = timedelta(hours=24)
    challenges_per_customer: int = 5
    challenges_per_destination: int = 5  # one phone number, across all customers
    wrong_codes_per_customer: int = 10


DEFAULT_CAPS = DailyCaps()


class OtpLimitReached(Exception):
    """A daily cap is reached: no new challenge (or no new try) before ``retry_at``."""

    def __init__(self, retry_at: datetime, scope: str) -> None:
        super().__init__(scope)
        self.retry_at = retry_at
        self.scope = scope  # "customer" | "destination"


def retry_at(moments: list[datetime], *, cap: int, window: timedelta, since: datetime) -> datetime | None:
    """When the cap frees a slot, if the moments after ``since`` already fill it; else None."""
    recent = sorted(m for m in moments if m > since)
    if len(recent) < cap:
        return None
    return recent[len(recent) - cap] + window


class AttemptStatus(Enum):
    VERIFIED = "verified"
    MISMATCH = "mismatch"
    EXPIRED = "expired"
    EXHAUSTED = "exhausted"
    NO_CHALLENGE = "no_challenge"
    LIMITED = "limited"  # too many wrong codes in the window: ``retry_at``


@dataclass(frozen=True, slots=True)
class AttemptResult:
    status: AttemptStatus
    attempts_remaining: int = 0
    profile: ProfileRecord | None = None
    retry_at: datetime | None = None


class ProfileRepository(Protocol):
    async def ping(self) -> bool: ...

    async def get(self, sub: str) -> ProfileRecord | None: ...

    async def get_response(self, sub: str, key: str) -> StoredResponse | None: ...

    async def create(self, profile: ProfileRecord, *, key: str, response: StoredResponse) -> CreateResult:
        """Store the profile and the idempotency record together, unless the key or a profile exists."""
        ...

    async def update(self, sub: str, change: Callable[[ProfileRecord], ProfileRecord]) -> ProfileRecord | None:
        """Apply ``change`` to the stored profile atomically; None when there is no profile.

        A changed phone number drops the customer's challenge (it was for the old number).
        """
        ...

    async def start_challenge(
        self, challenge: Challenge, *, throttle_since: datetime, destination_key: str, caps: DailyCaps = DEFAULT_CAPS
    ) -> Challenge | None:
        """Replace the customer's challenge; unless one was created after ``throttle_since``: return that one.

        Atomically with it, count the challenge against the customer's and the destination's
        daily caps (``destination_key`` names the phone number without holding it); raise
        :class:`OtpLimitReached`, writing nothing, when either is full.
        """
        ...

    async def discard_challenge(self, sub: str, challenge_id: str) -> None: ...

    async def attempt(
        self, sub: str, *, now: datetime, matches: Callable[[Challenge], bool], caps: DailyCaps = DEFAULT_CAPS
    ) -> AttemptResult:
        """Spend one attempt of the live challenge and check the code, atomically.

        A wrong code is stored (and counted against the customer's daily cap of wrong codes)
        before this returns; a right one marks the phone verified and removes the challenge.
        With the cap reached, nothing is checked: ``LIMITED``.
        """
        ...


def _ts(value: datetime) -> str:
    return value.isoformat()


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(value: datetime) -> int:
    """Microseconds since the epoch: how usage moments are stored and compared."""
    return (value - _EPOCH) // timedelta(microseconds=1)


def from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _profile(row: sqlite3.Row) -> ProfileRecord:
    return ProfileRecord(
        sub=row["sub"],
        data=ProfileInput.model_validate_json(row["data"]),
        phone_verified=bool(row["phone_verified"]),
        created_at=_dt(row["created_at"]),
        updated_at=_dt(row["updated_at"]),
    )


def _challenge(row: sqlite3.Row) -> Challenge:
    return Challenge(
        id=row["id"],
        sub=row["sub"],
        code_hash=row["code_hash"],
        phone_number=row["phone_number"],
        created_at=_dt(row["created_at"]),
        expires_at=_dt(row["expires_at"]),
        attempts_remaining=int(row["attempts_remaining"]),
    )


def _select_profile(conn: sqlite3.Connection, sub: str) -> ProfileRecord | None:
    row = conn.execute("SELECT * FROM profiles WHERE sub = ?", (sub,)).fetchone()
    return _profile(row) if row else None


def _select_response(conn: sqlite3.Connection, sub: str, key: str) -> StoredResponse | None:
    row = conn.execute(
        "SELECT fingerprint, status_code, response FROM idempotency_keys WHERE sub = ? AND key = ?", (sub, key)
    ).fetchone()
    if row is None:
        return None
    return StoredResponse(row["fingerprint"], int(row["status_code"]), json.loads(row["response"]))


class SqliteProfileRepository:
    """The embedded adapter (one SQLite file)."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def ping(self) -> bool:
        try:
            return await self._db.read(lambda conn: conn.execute("SELECT 1").fetchone() is not None)
        except sqlite3.Error:
            return False

    async def get(self, sub: str) -> ProfileRecord | None:
        return await self._db.read(lambda conn: _select_profile(conn, sub))

    async def get_response(self, sub: str, key: str) -> StoredResponse | None:
        return await self._db.read(lambda conn: _select_response(conn, sub, key))

    async def create(self, profile: ProfileRecord, *, key: str, response: StoredResponse) -> CreateResult:
        def tx(conn: sqlite3.Connection) -> CreateResult:
            stored = _select_response(conn, profile.sub, key)
            if stored is not None:
                return CreateResult(CreateOutcome.REPLAYED, stored)
            if conn.execute("SELECT 1 FROM profiles WHERE sub = ?", (profile.sub,)).fetchone():
                return CreateResult(CreateOutcome.PROFILE_EXISTS)
            conn.execute(
                "INSERT INTO profiles (sub, data, phone_verified, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                (
                    profile.sub,
                    profile.data.model_dump_json(),
                    int(profile.phone_verified),
                    _ts(profile.created_at),
                    _ts(profile.updated_at),
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
                    _ts(profile.created_at),
                ),
            )
            return CreateResult(CreateOutcome.CREATED, response)

        return await self._db.write(tx)

    async def update(self, sub: str, change: Callable[[ProfileRecord], ProfileRecord]) -> ProfileRecord | None:
        def tx(conn: sqlite3.Connection) -> ProfileRecord | None:
            current = _select_profile(conn, sub)
            if current is None:
                return None
            updated = change(current)
            conn.execute(
                "UPDATE profiles SET data = ?, phone_verified = ?, updated_at = ? WHERE sub = ?",
                (updated.data.model_dump_json(), int(updated.phone_verified), _ts(updated.updated_at), sub),
            )
            if updated.data.phone_number != current.data.phone_number:
                conn.execute("DELETE FROM verification_challenges WHERE sub = ?", (sub,))
            return updated

        return await self._db.write(tx)

    @staticmethod
    def _usage(conn: sqlite3.Connection, scope: str, kind: str, since: datetime) -> list[datetime]:
        """The moments of ``kind`` in ``scope`` after ``since`` (older ones are dropped on the way)."""
        conn.execute("DELETE FROM otp_usage WHERE scope = ? AND kind = ? AND at <= ?", (scope, kind, micros(since)))
        rows = conn.execute("SELECT at FROM otp_usage WHERE scope = ? AND kind = ?", (scope, kind))
        return [from_micros(int(r["at"])) for r in rows]

    @staticmethod
    def _use(conn: sqlite3.Connection, scope: str, kind: str, at: datetime) -> None:
        conn.execute("INSERT INTO otp_usage (scope, kind, at) VALUES (?, ?, ?)", (scope, kind, micros(at)))

    async def start_challenge(
        self, challenge: Challenge, *, throttle_since: datetime, destination_key: str, caps: DailyCaps = DEFAULT_CAPS
    ) -> Challenge | None:
        def tx(conn: sqlite3.Connection) -> Challenge | None:
            row = conn.execute("SELECT * FROM verification_challenges WHERE sub = ?", (challenge.sub,)).fetchone()
            if row is not None:
                previous = _challenge(row)
                if previous.created_at > throttle_since:
                    return previous
            since = challenge.created_at - caps.window
            scopes = (
                (f"customer:{challenge.sub}", caps.challenges_per_customer, "customer"),
                (f"destination:{destination_key}", caps.challenges_per_destination, "destination"),
            )
            for scope, cap, name in scopes:
                moments = self._usage(conn, scope, "challenge", since)
                free_at = retry_at(moments, cap=cap, window=caps.window, since=since)
                if free_at is not None:
                    raise OtpLimitReached(free_at, name)  # rolled back: nothing written
            for scope, _, _ in scopes:
                self._use(conn, scope, "challenge", challenge.created_at)
            conn.execute(
                "INSERT OR REPLACE INTO verification_challenges"
                " (sub, id, code_hash, phone_number, created_at, expires_at, attempts_remaining)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    challenge.sub,
                    challenge.id,
                    challenge.code_hash,
                    challenge.phone_number,
                    _ts(challenge.created_at),
                    _ts(challenge.expires_at),
                    challenge.attempts_remaining,
                ),
            )
            return None

        return await self._db.write(tx)

    async def discard_challenge(self, sub: str, challenge_id: str) -> None:
        await self._db.write(
            lambda conn: conn.execute(
                "DELETE FROM verification_challenges WHERE sub = ? AND id = ?", (sub, challenge_id)
            )
        )

    async def attempt(
        self, sub: str, *, now: datetime, matches: Callable[[Challenge], bool], caps: DailyCaps = DEFAULT_CAPS
    ) -> AttemptResult:
        def tx(conn: sqlite3.Connection) -> AttemptResult:
            row = conn.execute("SELECT * FROM verification_challenges WHERE sub = ?", (sub,)).fetchone()
            if row is None:
                return AttemptResult(AttemptStatus.NO_CHALLENGE)
            challenge = _challenge(row)
            if challenge.attempts_remaining <= 0:
                return AttemptResult(AttemptStatus.EXHAUSTED)
            if now >= challenge.expires_at:
                return AttemptResult(AttemptStatus.EXPIRED)
            profile = _select_profile(conn, sub)
            if profile is None or profile.data.phone_number != challenge.phone_number:
                conn.execute("DELETE FROM verification_challenges WHERE sub = ?", (sub,))
                return AttemptResult(AttemptStatus.NO_CHALLENGE)
            scope, since = f"customer:{sub}", now - caps.window
            wrong = self._usage(conn, scope, "wrong_code", since)
            free_at = retry_at(wrong, cap=caps.wrong_codes_per_customer, window=caps.window, since=since)
            if free_at is not None:
                return AttemptResult(AttemptStatus.LIMITED, challenge.attempts_remaining, retry_at=free_at)
            remaining = challenge.attempts_remaining - 1
            if not matches(challenge):
                conn.execute(
                    "UPDATE verification_challenges SET attempts_remaining = ? WHERE sub = ? AND id = ?",
                    (remaining, sub, challenge.id),
                )
                self._use(conn, scope, "wrong_code", now)
                return AttemptResult(AttemptStatus.MISMATCH, remaining)
            conn.execute("DELETE FROM verification_challenges WHERE sub = ?", (sub,))
            conn.execute("UPDATE profiles SET phone_verified = 1, updated_at = ? WHERE sub = ?", (_ts(now), sub))
            verified = ProfileRecord(
                sub=sub, data=profile.data, phone_verified=True, created_at=profile.created_at, updated_at=now
            )
            return AttemptResult(AttemptStatus.VERIFIED, remaining, verified)

        return await self._db.write(tx)
