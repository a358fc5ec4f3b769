"""The ``ProfileRepository`` contract, run against every adapter: SQLite (a fresh file) and
DynamoDB (a fresh table on the moto server, over real HTTP). Includes the guarantees under
concurrency: attempts are spent atomically, one idempotency key creates one profile."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import anyio
import pytest
from bnpl_user.db import open_database
from bnpl_user.errors import InvalidProfile
from bnpl_user.profiles.repository import (
    AttemptResult,
    AttemptStatus,
    Challenge,
    CreateOutcome,
    CreateResult,
    DailyCaps,
    OtpLimitReached,
    ProfileRecord,
    ProfileRepository,
    SqliteProfileRepository,
    StoredResponse,
)
from bnpl_user.profiles.schemas import ProfileInput
from bnpl_user.storage.dynamodb import DynamoProfileRepository
from bnpl_user.testing import profile_input

T = TypeVar("T")
NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
RESEND = timedelta(seconds=30)
NEW_PHONE = "+33612345678"
DEST = "destination-a"


def run(fn: Callable[[], Awaitable[T]]) -> T:
    return anyio.run(fn)


@pytest.fixture(params=["sqlite", "dynamodb"])
def repo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ProfileRepository]:
    if request.param == "sqlite":
        db = open_database(tmp_path / "user.sqlite3")
        run(db.create_schema)
        yield SqliteProfileRepository(db)
    else:
        client = request.getfixturevalue("dynamodb_client")
        yield DynamoProfileRepository(client, request.getfixturevalue("dynamodb_table"))


def _record(sub: str = "customer-a", **overrides: Any) -> ProfileRecord:
    data = ProfileInput.model_validate(profile_input(**overrides))
    return ProfileRecord(sub=sub, data=data, phone_verified=False, created_at=NOW, updated_at=NOW)


def _response(sub: str = "customer-a", fp: str = "fp") -> StoredResponse:
    return StoredResponse(fp, 201, {"id": sub, "amount": 350000})


def _challenge(
    record: ProfileRecord, *, id: str = "c1", at: datetime = NOW, attempts: int = 5, phone: str | None = None
) -> Challenge:
    return Challenge(
        id=id,
        sub=record.sub,
        code_hash=f"hash-{id}",
        phone_number=phone or record.data.phone_number,
        created_at=at,
        expires_at=at + timedelta(minutes=10),
        attempts_remaining=attempts,
    )


async def _with_challenge(repo: ProfileRepository, attempts: int = 5) -> tuple[ProfileRecord, Challenge]:
    record = _record()
    assert (await repo.create(record, key="k-00000001", response=_response())).outcome is CreateOutcome.CREATED
    challenge = _challenge(record, attempts=attempts)
    assert await repo.start_challenge(challenge, throttle_since=NOW - RESEND, destination_key=DEST) is None
    return record, challenge


def _by_hash(code_hash: str) -> Callable[[Challenge], bool]:
    return lambda challenge: challenge.code_hash == code_hash


# -- profiles and idempotency records ----------------------------------------------------


def test_ping(repo: ProfileRepository) -> None:
    assert run(repo.ping) is True


def test_create_then_read_back(repo: ProfileRepository) -> None:
    async def scenario() -> None:
        assert await repo.get("customer-a") is None
        assert await repo.get_response("customer-a", "k-00000001") is None
        record = _record()
        result = await repo.create(record, key="k-00000001", response=_response())
        assert result == CreateResult(CreateOutcome.CREATED, _response())
        assert await repo.get("customer-a") == record
        assert await repo.get_response("customer-a", "k-00000001") == _response()
        assert await repo.get("customer-b") is None

    run(scenario)


def test_used_key_replays_and_another_key_finds_the_profile(repo: ProfileRepository) -> None:
    async def scenario() -> None:
        await repo.create(_record(), key="k-00000001", response=_response())
        again = await repo.create(_record(givenName="Other"), key="k-00000001", response=_response(fp="other"))
        assert again == CreateResult(CreateOutcome.REPLAYED, _response())
        other_key = await repo.create(_record(), key="k-00000002", response=_response())
        assert other_key.outcome is CreateOutcome.PROFILE_EXISTS
        # Nothing half-written: the refused key holds no record, the profile is the first one.
        assert await repo.get_response("customer-a", "k-00000002") is None
        stored = await repo.get("customer-a")
        assert stored is not None and stored.data.given_name == "Ada"

    run(scenario)


def test_keys_belong_to_one_customer(repo: ProfileRepository) -> None:
    async def scenario() -> None:
        await repo.create(_record("customer-a"), key="shared-key", response=_response("customer-a"))
        b = await repo.create(_record("customer-b"), key="shared-key", response=_response("customer-b"))
        assert b.outcome is CreateOutcome.CREATED
        assert await repo.get_response("customer-b", "shared-key") == _response("customer-b")
        assert await repo.get_response("customer-a", "shared-key") == _response("customer-a")

    run(scenario)


def test_update_applies_the_change(repo: ProfileRepository) -> None:
    async def scenario() -> None:
        assert await repo.update("customer-a", lambda current: current) is None
        await repo.create(_record(), key="k-00000001", response=_response())
        later = NOW + timedelta(minutes=1)

        def change(current: ProfileRecord) -> ProfileRecord:
            data = current.data.model_copy(update={"family_name": "King"})
            return ProfileRecord(current.sub, data, current.phone_verified, current.created_at, later)

        updated = await repo.update("customer-a", change)
        assert updated is not None
        assert (updated.data.family_name, updated.updated_at, updated.created_at) == ("King", later, NOW)
        assert await repo.get("customer-a") == updated

    run(scenario)


def test_a_refused_change_writes_nothing(repo: ProfileRepository) -> None:
    async def scenario() -> None:
        await repo.create(_record(), key="k-00000001", response=_response())

        def refuse(current: ProfileRecord) -> ProfileRecord:
            raise InvalidProfile("dateOfBirth: no", field="dateOfBirth")

        with pytest.raises(InvalidProfile):
            await repo.update("customer-a", refuse)
        assert await repo.get("customer-a") == _record()

    run(scenario)


def _phone_change(phone: str) -> Callable[[ProfileRecord], ProfileRecord]:
    def change(current: ProfileRecord) -> ProfileRecord:
        data = current.data.model_copy(update={"phone_number": phone})
        return ProfileRecord(current.sub, data, False, current.created_at, NOW)

    return change


def test_a_new_phone_number_drops_the_challenge(repo: ProfileRepository) -> None:
    async def scenario() -> tuple[AttemptResult, AttemptResult]:
        record, challenge = await _with_challenge(repo)
        await repo.update(record.sub, _phone_change(record.data.phone_number))  # the same number
        kept = await repo.attempt(record.sub, now=NOW, matches=lambda _: False)
        await repo.update(record.sub, _phone_change(NEW_PHONE))
        return kept, await repo.attempt(record.sub, now=NOW, matches=_by_hash(challenge.code_hash))

    kept, dropped = run(scenario)
    assert kept == AttemptResult(AttemptStatus.MISMATCH, 4)
    assert dropped.status is AttemptStatus.NO_CHALLENGE


# -- phone challenges -------------------------------------------------------------------


def test_right_code_verifies_the_phone_once(repo: ProfileRepository) -> None:
    async def scenario() -> None:
        record, challenge = await _with_challenge(repo)
        assert await repo.attempt(record.sub, now=NOW, matches=lambda _: False) == AttemptResult(
            AttemptStatus.MISMATCH, 4
        )
        later = NOW + timedelta(minutes=2)
        result = await repo.attempt(record.sub, now=later, matches=_by_hash(challenge.code_hash))
        assert (result.status, result.attempts_remaining) == (AttemptStatus.VERIFIED, 3)
        assert result.profile is not None
        assert (result.profile.phone_verified, result.profile.updated_at) == (True, later)
        assert await repo.get(record.sub) == result.profile
        again = await repo.attempt(record.sub, now=later, matches=_by_hash(challenge.code_hash))
        assert again.status is AttemptStatus.NO_CHALLENGE

    run(scenario)


def test_no_challenge_expired_and_exhausted(repo: ProfileRepository) -> None:
    async def scenario() -> list[AttemptStatus]:
        record = _record()
        await repo.create(record, key="k-00000001", response=_response())
        statuses = [(await repo.attempt(record.sub, now=NOW, matches=lambda _: True)).status]
        await repo.start_challenge(_challenge(record, attempts=2), throttle_since=NOW - RESEND, destination_key=DEST)
        statuses.append(
            (await repo.attempt(record.sub, now=NOW + timedelta(minutes=10), matches=lambda _: True)).status
        )
        for _ in range(3):
            statuses.append((await repo.attempt(record.sub, now=NOW, matches=lambda _: False)).status)
        statuses.append((await repo.attempt(record.sub, now=NOW, matches=lambda _: True)).status)
        return statuses

    assert run(scenario) == [
        AttemptStatus.NO_CHALLENGE,
        AttemptStatus.EXPIRED,
        AttemptStatus.MISMATCH,
        AttemptStatus.MISMATCH,
        AttemptStatus.EXHAUSTED,
        AttemptStatus.EXHAUSTED,
    ]


def test_a_challenge_for_another_number_is_void(repo: ProfileRepository) -> None:
    async def scenario() -> tuple[AttemptResult, AttemptResult]:
        record = _record()
        await repo.create(record, key="k-00000001", response=_response())
        await repo.start_challenge(
            _challenge(record, phone=NEW_PHONE), throttle_since=NOW - RESEND, destination_key=DEST
        )
        first = await repo.attempt(record.sub, now=NOW, matches=lambda _: True)
        return first, await repo.attempt(record.sub, now=NOW, matches=lambda _: True)

    first, second = run(scenario)
    assert first.status is AttemptStatus.NO_CHALLENGE
    assert second.status is AttemptStatus.NO_CHALLENGE
    assert run(lambda: repo.get("customer-a")).phone_verified is False  # type: ignore[union-attr]


def test_resend_throttle_and_replacement(repo: ProfileRepository) -> None:
    async def scenario() -> None:
        record, first = await _with_challenge(repo)
        second = _challenge(record, id="c2", at=NOW + timedelta(seconds=10))
        recent = await repo.start_challenge(second, throttle_since=second.created_at - RESEND, destination_key=DEST)
        assert recent == first
        third = _challenge(record, id="c3", at=NOW + RESEND)
        assert await repo.start_challenge(third, throttle_since=third.created_at - RESEND, destination_key=DEST) is None
        old = await repo.attempt(record.sub, now=third.created_at, matches=_by_hash(first.code_hash))
        assert old == AttemptResult(AttemptStatus.MISMATCH, 4)
        new = await repo.attempt(record.sub, now=third.created_at, matches=_by_hash(third.code_hash))
        assert new.status is AttemptStatus.VERIFIED

    run(scenario)


def test_discard_removes_only_that_challenge(repo: ProfileRepository) -> None:
    async def scenario() -> None:
        record, challenge = await _with_challenge(repo)
        await repo.discard_challenge(record.sub, "another-id")
        assert (await repo.attempt(record.sub, now=NOW, matches=lambda _: False)).status is AttemptStatus.MISMATCH
        await repo.discard_challenge(record.sub, challenge.id)
        assert (await repo.attempt(record.sub, now=NOW, matches=lambda _: True)).status is AttemptStatus.NO_CHALLENGE
        # Gone, so a new one is not throttled.
        assert (
            await repo.start_challenge(_challenge(record, id="c2"), throttle_since=NOW - RESEND, destination_key=DEST)
            is None
        )

    run(scenario)


# -- daily caps (review finding M2) -------------------------------------------------------

DAY = timedelta(hours=24)


async def _start(repo: ProfileRepository, challenge: Challenge, dest: str = DEST) -> Challenge | None:
    return await repo.start_challenge(
        challenge, throttle_since=challenge.created_at - RESEND, destination_key=dest, caps=DailyCaps()
    )


def test_at_most_five_codes_per_customer_a_day(repo: ProfileRepository) -> None:
    async def scenario() -> None:
        record = _record()
        await repo.create(record, key="k-00000001", response=_response())
        for n in range(5):
            assert await _start(repo, _challenge(record, id=f"c{n}", at=NOW + n * RESEND), dest=f"d{n}") is None
        sixth = _challenge(record, id="c5", at=NOW + 5 * RESEND)
        with pytest.raises(OtpLimitReached) as limit:
            await _start(repo, sixth, dest="d5")
        assert (limit.value.scope, limit.value.retry_at) == ("customer", NOW + DAY)
        # nothing was written: the fifth code is still the live one
        assert (await repo.attempt(record.sub, now=sixth.created_at, matches=_by_hash("hash-c5"))).status is (
            AttemptStatus.MISMATCH
        )
        assert (await repo.attempt(record.sub, now=sixth.created_at, matches=_by_hash("hash-c4"))).status is (
            AttemptStatus.VERIFIED
        )
        # a rolling window: a day after the first code, one more may go
        await repo.update(record.sub, _phone_change(NEW_PHONE))
        assert await _start(repo, _challenge(record, id="c6", at=NOW + DAY, phone=NEW_PHONE), dest="d6") is None
        # (the second code ages out 30 s later, and so on)
        assert (
            await _start(repo, _challenge(record, id="c7", at=NOW + DAY + RESEND, phone=NEW_PHONE), dest="d7") is None
        )

    run(scenario)


def test_at_most_five_codes_per_phone_number_a_day_across_customers(repo: ProfileRepository) -> None:
    async def scenario() -> None:
        for n in range(6):
            record = _record(sub=f"customer-{n}")
            await repo.create(record, key=f"k-0000000{n}", response=_response(record.sub))
            challenge = _challenge(record, id=f"c{n}", at=NOW + n * timedelta(seconds=1))
            if n < 5:
                assert await _start(repo, challenge, dest="victims-number") is None
                continue
            with pytest.raises(OtpLimitReached) as limit:
                await _start(repo, challenge, dest="victims-number")
            assert (limit.value.scope, limit.value.retry_at) == ("destination", NOW + DAY)
            assert (await repo.attempt(record.sub, now=NOW, matches=lambda _: True)).status is (
                AttemptStatus.NO_CHALLENGE
            )
            assert await _start(repo, challenge, dest="another-number") is None

    run(scenario)


def test_at_most_ten_wrong_codes_per_customer_a_day(repo: ProfileRepository) -> None:
    async def scenario() -> None:
        record = _record()
        await repo.create(record, key="k-00000001", response=_response())
        for n in range(2):
            at = NOW + n * RESEND
            await _start(repo, _challenge(record, id=f"c{n}", at=at))
            for _ in range(5):
                result = await repo.attempt(record.sub, now=at, matches=lambda _: False)
                assert result.status is AttemptStatus.MISMATCH
        third = _challenge(record, id="c2", at=NOW + 2 * RESEND)
        await _start(repo, third)
        # the cap holds even for the right code: guessing stops, nothing is spent
        limited = await repo.attempt(record.sub, now=third.created_at, matches=_by_hash(third.code_hash))
        assert limited == AttemptResult(AttemptStatus.LIMITED, 5, retry_at=NOW + DAY)
        assert (await repo.get(record.sub)).phone_verified is False  # type: ignore[union-attr]

    run(scenario)


def test_concurrent_codes_to_one_number_stop_at_the_cap(repo: ProfileRepository) -> None:
    async def scenario() -> list[str]:
        outcomes: list[str] = []
        records = [_record(sub=f"customer-{n}") for n in range(8)]
        for n, record in enumerate(records):
            await repo.create(record, key=f"k-0000000{n}", response=_response(record.sub))

        async def start(record: ProfileRecord) -> None:
            try:
                outcomes.append("sent" if await _start(repo, _challenge(record), dest="one-number") is None else "?")
            except OtpLimitReached:
                outcomes.append("capped")

        async with anyio.create_task_group() as tg:
            for record in records:
                tg.start_soon(start, record)
        return outcomes

    assert sorted(run(scenario)) == ["capped"] * 3 + ["sent"] * 5


def test_concurrent_wrong_codes_stop_at_the_daily_cap(repo: ProfileRepository) -> None:
    async def scenario() -> list[AttemptResult]:
        record = _record()
        await repo.create(record, key="k-00000001", response=_response())
        for n in range(2):  # 9 wrong codes over two challenges
            at = NOW + n * RESEND
            await _start(repo, _challenge(record, id=f"c{n}", at=at))
            for _ in range(5 - n):
                await repo.attempt(record.sub, now=at, matches=lambda _: False)
        await _start(repo, _challenge(record, id="c2", at=NOW + 2 * RESEND))
        results: list[AttemptResult] = []

        async def guess() -> None:
            results.append(await repo.attempt(record.sub, now=NOW + 2 * RESEND, matches=lambda _: False))

        async with anyio.create_task_group() as tg:
            for _ in range(6):
                tg.start_soon(guess)
        return results

    statuses = sorted(r.status.value for r in run(scenario))
    assert statuses == [AttemptStatus.LIMITED.value] * 5 + [AttemptStatus.MISMATCH.value]


# -- concurrency ------------------------------------------------------------------------


def test_concurrent_wrong_codes_spend_exactly_the_allowed_attempts(repo: ProfileRepository) -> None:
    async def scenario() -> list[AttemptResult]:
        record, _ = await _with_challenge(repo)
        results: list[AttemptResult] = []

        async def guess() -> None:
            results.append(await repo.attempt(record.sub, now=NOW, matches=lambda _: False))

        async with anyio.create_task_group() as tg:
            for _ in range(12):
                tg.start_soon(guess)
        return results

    results = run(scenario)
    spent = sorted(r.attempts_remaining for r in results if r.status is AttemptStatus.MISMATCH)
    assert spent == [0, 1, 2, 3, 4]
    assert sum(r.status is AttemptStatus.EXHAUSTED for r in results) == 7


def test_concurrent_right_codes_verify_once(repo: ProfileRepository) -> None:
    async def scenario() -> list[AttemptResult]:
        record, challenge = await _with_challenge(repo)
        results: list[AttemptResult] = []

        async def confirm() -> None:
            results.append(await repo.attempt(record.sub, now=NOW, matches=_by_hash(challenge.code_hash)))

        async with anyio.create_task_group() as tg:
            for _ in range(6):
                tg.start_soon(confirm)
        return results

    statuses = sorted(r.status.value for r in run(scenario))
    assert statuses.count(AttemptStatus.VERIFIED.value) == 1
    assert set(statuses) - {AttemptStatus.VERIFIED.value} <= {AttemptStatus.NO_CHALLENGE.value}


def test_concurrent_creates_with_one_key_store_one_profile(repo: ProfileRepository) -> None:
    async def scenario() -> list[CreateResult]:
        results: list[CreateResult] = []

        async def create() -> None:
            results.append(await repo.create(_record(), key="same-key-1", response=_response()))

        async with anyio.create_task_group() as tg:
            for _ in range(6):
                tg.start_soon(create)
        return results

    results = run(scenario)
    outcomes = sorted(r.outcome.value for r in results)
    assert outcomes == [CreateOutcome.CREATED.value] + [CreateOutcome.REPLAYED.value] * 5
    assert all(r.response == _response() for r in results)


def test_concurrent_creates_with_many_keys_store_one_profile(repo: ProfileRepository) -> None:
    async def scenario() -> list[CreateResult]:
        results: list[CreateResult] = []

        async def create(i: int) -> None:
            results.append(await repo.create(_record(), key=f"key-{i:08d}", response=_response()))

        async with anyio.create_task_group() as tg:
            for i in range(6):
                tg.start_soon(create, i)
        return results

    outcomes = sorted(r.outcome.value for r in run(scenario))
    assert outcomes == [CreateOutcome.CREATED.value] + [CreateOutcome.PROFILE_EXISTS.value] * 5


def test_concurrent_updates_lose_nothing(repo: ProfileRepository) -> None:
    async def scenario() -> ProfileRecord | None:
        await repo.create(_record(employmentYears=0), key="k-00000001", response=_response())

        def one_more_year(current: ProfileRecord) -> ProfileRecord:
            data = current.data.model_copy(update={"employment_years": current.data.employment_years + 1})
            return ProfileRecord(current.sub, data, current.phone_verified, current.created_at, NOW)

        async with anyio.create_task_group() as tg:
            for _ in range(8):
                tg.start_soon(repo.update, "customer-a", one_more_year)
        return await repo.get("customer-a")

    final = run(scenario)
    assert final is not None and final.data.employment_years == 8
