"""The SQLite adapter under concurrency: attempts and idempotency records are atomic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
from bnpl_user.db import SqliteDatabase
from bnpl_user.profiles.repository import (
    AttemptResult,
    AttemptStatus,
    Challenge,
    CreateOutcome,
    CreateResult,
    ProfileRecord,
    SqliteProfileRepository,
    StoredResponse,
)
from bnpl_user.profiles.schemas import ProfileInput
from bnpl_user.testing import profile_input

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def _record(sub: str = "customer-a") -> ProfileRecord:
    data = ProfileInput.model_validate(profile_input())
    return ProfileRecord(sub=sub, data=data, phone_verified=False, created_at=NOW, updated_at=NOW)


async def _repo(tmp_path: Path) -> SqliteProfileRepository:
    db = SqliteDatabase(tmp_path / "user.sqlite3")
    await db.create_schema()
    return SqliteProfileRepository(db)


def test_concurrent_wrong_codes_spend_exactly_the_allowed_attempts(tmp_path: Path) -> None:
    async def scenario() -> list[AttemptResult]:
        repo = await _repo(tmp_path)
        record = _record()
        await repo.create(record, key="k-00000001", response=StoredResponse("fp", 201, {}))
        challenge = Challenge(
            id="c1",
            sub=record.sub,
            code_hash="h",
            phone_number=record.data.phone_number,
            created_at=NOW,
            expires_at=NOW + timedelta(minutes=10),
            attempts_remaining=5,
        )
        assert await repo.start_challenge(challenge, throttle_since=NOW - timedelta(seconds=30)) is None
        results: list[AttemptResult] = []

        async def guess() -> None:
            results.append(await repo.attempt(record.sub, now=NOW, matches=lambda _: False))

        async with anyio.create_task_group() as tg:
            for _ in range(12):
                tg.start_soon(guess)
        return results

    results = anyio.run(scenario)
    spent = sorted(r.attempts_remaining for r in results if r.status is AttemptStatus.MISMATCH)
    assert spent == [0, 1, 2, 3, 4]
    assert sum(r.status is AttemptStatus.EXHAUSTED for r in results) == 7


def test_concurrent_creates_with_one_key_store_one_profile(tmp_path: Path) -> None:
    async def scenario() -> list[CreateResult]:
        repo = await _repo(tmp_path)
        results: list[CreateResult] = []

        async def create() -> None:
            response = StoredResponse("fp", 201, {"id": "customer-a"})
            results.append(await repo.create(_record(), key="same-key-1", response=response))

        async with anyio.create_task_group() as tg:
            for _ in range(6):
                tg.start_soon(create)
        return results

    outcomes = sorted(r.outcome.value for r in anyio.run(scenario))
    assert outcomes == [CreateOutcome.CREATED.value] + [CreateOutcome.REPLAYED.value] * 5
