"""What only the SQLite adapter has: files written by earlier versions are migrated in place
and stay readable."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
from bnpl_user.profiles.schemas import ProfileInput
from bnpl_user.storage.sqlite import SqliteUserStore
from bnpl_user.testing import profile_input
from bnpl_user.verification.model import ScopeKind, UsageScope

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)

# The schema and rows of the first version: no versions, no max_attempts, isoformat() times.
FIRST_VERSION = """
CREATE TABLE profiles (sub TEXT PRIMARY KEY, data TEXT NOT NULL, phone_verified INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE idempotency_keys (sub TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL,
    status_code INTEGER NOT NULL, response TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (sub, key));
CREATE TABLE verification_challenges (sub TEXT PRIMARY KEY, id TEXT NOT NULL, code_hash TEXT NOT NULL,
    phone_number TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL,
    attempts_remaining INTEGER NOT NULL);
CREATE TABLE otp_usage (scope TEXT NOT NULL, kind TEXT NOT NULL, at INTEGER NOT NULL);
"""


def test_a_file_of_the_first_version_is_migrated_and_readable(tmp_path: Path) -> None:
    path = tmp_path / "user.sqlite3"
    details = json.dumps(ProfileInput.model_validate(profile_input()).model_dump(mode="json"))
    conn = sqlite3.connect(path)
    conn.executescript(FIRST_VERSION)
    conn.execute(
        "INSERT INTO profiles VALUES (?, ?, 0, ?, ?)",
        ("customer-a", details, "2026-03-15T12:00:00+00:00", "2026-03-15T12:00:00+00:00"),
    )
    conn.execute(
        "INSERT INTO verification_challenges VALUES ('customer-a', 'c1', 'hash', '+447700900789', ?, ?, 3)",
        ("2026-03-15T12:00:00+00:00", "2026-03-15T12:10:00+00:00"),
    )
    conn.execute(
        "INSERT INTO otp_usage VALUES ('customer:customer-a', 'challenge', ?)", (int(NOW.timestamp()) * 10**6,)
    )
    conn.commit()
    conn.close()

    store = SqliteUserStore(path)

    async def scenario() -> None:
        await store.prepare()
        await store.prepare()  # idempotent: every start runs it
        state = await store.verification_state("customer-a")
        assert state.profile is not None and state.challenge is not None
        assert (state.profile.created_at, state.profile.version) == (NOW, 1)
        assert state.profile.details == ProfileInput.model_validate(profile_input()).to_details()
        # the allowance of an old challenge is what it had left: nothing more, nothing less
        assert (state.challenge.attempts_remaining, state.challenge.expires_at) == (3, NOW + timedelta(minutes=10))
        assert state.usage.sent == (NOW,) and state.usage.version == 0
        assert state.usage.scope == UsageScope(ScopeKind.CUSTOMER, "customer-a")
        # and it can be written again
        await store.spend_attempt(state.challenge.spent(), usage=state.usage.with_wrong(NOW))
        spent = await store.get_challenge("customer-a")
        assert spent is not None and spent.attempts_remaining == 2

    anyio.run(scenario)
