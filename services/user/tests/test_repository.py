"""The storage contract, run against every adapter: SQLite (a fresh file) and DynamoDB (a
fresh table on the moto server, over real HTTP).

Adapters decide nothing: they store records, read them back, and refuse with
``ConcurrentUpdate``, writing nothing, a write whose records moved since they were read.
The rules built on these writes (throttle, caps, attempts) are tested through the
verification service in ``test_verification_rules.py``, on both adapters too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import anyio
import pytest
from bnpl_common.errors import ConcurrentUpdate
from bnpl_common.idempotency import StoredResponse
from bnpl_user.profiles.model import CreateOutcome, CreateResult, Profile
from bnpl_user.profiles.schemas import ProfileInput
from bnpl_user.storage.dynamodb import DynamoUserStore
from bnpl_user.storage.port import UserStore
from bnpl_user.storage.sqlite import SqliteUserStore
from bnpl_user.testing import profile_input
from bnpl_user.verification.model import Challenge, ScopeKind, UsageLog, UsageScope

T = TypeVar("T")
NOW = datetime(2026, 3, 15, 12, 0, 0, 123456, tzinfo=UTC)  # microseconds survive storage
NEW_PHONE = "+33612345678"


def run(fn: Callable[[], Awaitable[T]]) -> T:
    return anyio.run(fn)


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[UserStore]:
    adapter: UserStore
    if request.param == "sqlite":
        adapter = SqliteUserStore(tmp_path / "user.sqlite3")
    else:
        adapter = DynamoUserStore(request.getfixturevalue("dynamodb_client"), request.getfixturevalue("dynamodb_table"))
    run(adapter.prepare)
    yield adapter


def _profile(sub: str = "customer-a", **overrides: Any) -> Profile:
    details = ProfileInput.model_validate(profile_input(**overrides)).to_details()
    return Profile(sub=sub, details=details, phone_verified=False, created_at=NOW, updated_at=NOW)


def _response(sub: str = "customer-a", fp: str = "fp") -> StoredResponse:
    return StoredResponse(fp, 201, {"id": sub, "amount": 350000})


def _challenge(profile: Profile, *, id: str = "c1", at: datetime = NOW, phone: str | None = None) -> Challenge:
    return Challenge(
        id=id,
        sub=profile.sub,
        code_hash=f"hash-{id}",
        phone_number=phone or profile.details.phone_number,
        created_at=at,
        expires_at=at + timedelta(minutes=10),
        max_attempts=5,
    )


def _mine(sub: str = "customer-a") -> UsageScope:
    return UsageScope(ScopeKind.CUSTOMER, sub)


DEST = UsageScope(ScopeKind.DESTINATION, "hmac-of-the-number")


async def _created(store: UserStore, sub: str = "customer-a") -> Profile:
    assert (await store.create_profile(_profile(sub), key="k-00000001", response=_response(sub))).outcome is (
        CreateOutcome.CREATED
    )
    stored = await store.get_profile(sub)
    assert stored is not None
    return stored


async def _with_challenge(store: UserStore) -> tuple[Profile, Challenge]:
    profile = await _created(store)
    challenge = _challenge(profile)
    await store.save_challenge(challenge, replacing=None, profile=profile, usage=[])
    return profile, challenge


# -- profiles and idempotency records ----------------------------------------------------


def test_ping(store: UserStore) -> None:
    assert run(store.ping) is True


def test_create_then_read_back(store: UserStore) -> None:
    async def scenario() -> None:
        assert await store.get_profile("customer-a") is None
        assert await store.get_response("customer-a", "k-00000001") is None
        result = await store.create_profile(_profile(), key="k-00000001", response=_response())
        assert result == CreateResult(CreateOutcome.CREATED, _response())
        assert await store.get_profile("customer-a") == replace(_profile(), version=1)
        assert await store.get_response("customer-a", "k-00000001") == _response()
        assert await store.get_profile("customer-b") is None

    run(scenario)


def test_used_key_replays_and_another_key_finds_the_profile(store: UserStore) -> None:
    async def scenario() -> None:
        await store.create_profile(_profile(), key="k-00000001", response=_response())
        again = await store.create_profile(
            _profile(givenName="Other"), key="k-00000001", response=_response(fp="other")
        )
        assert again == CreateResult(CreateOutcome.REPLAYED, _response())
        other_key = await store.create_profile(_profile(), key="k-00000002", response=_response())
        assert other_key.outcome is CreateOutcome.PROFILE_EXISTS
        # Nothing half-written: the refused key holds no record, the profile is the first one.
        assert await store.get_response("customer-a", "k-00000002") is None
        stored = await store.get_profile("customer-a")
        assert stored is not None and stored.details.given_name == "Ada"

    run(scenario)


def test_keys_belong_to_one_customer(store: UserStore) -> None:
    async def scenario() -> None:
        await store.create_profile(_profile("customer-a"), key="shared-key", response=_response("customer-a"))
        b = await store.create_profile(_profile("customer-b"), key="shared-key", response=_response("customer-b"))
        assert b.outcome is CreateOutcome.CREATED
        assert await store.get_response("customer-b", "shared-key") == _response("customer-b")
        assert await store.get_response("customer-a", "shared-key") == _response("customer-a")

    run(scenario)


def test_save_is_conditional_on_the_version_read(store: UserStore) -> None:
    async def scenario() -> None:
        first = await _created(store)
        later = NOW + timedelta(minutes=1)
        king = replace(first, details=replace(first.details, family_name="King"), updated_at=later)
        saved = await store.save_profile(king)
        assert saved == replace(king, version=2)
        assert await store.get_profile("customer-a") == saved
        # A change decided on the first read is refused and writes nothing.
        with pytest.raises(ConcurrentUpdate):
            await store.save_profile(replace(first, details=replace(first.details, family_name="Stale")))
        assert await store.get_profile("customer-a") == saved
        # So is a save of a profile that is not stored.
        with pytest.raises(ConcurrentUpdate):
            await store.save_profile(replace(_profile("customer-b"), version=1))
        assert await store.get_profile("customer-b") is None

    run(scenario)


def test_a_save_can_drop_the_challenge_in_the_same_write(store: UserStore) -> None:
    async def scenario() -> None:
        profile, challenge = await _with_challenge(store)
        kept = await store.save_profile(replace(profile, updated_at=NOW + timedelta(seconds=1)))
        assert await store.get_challenge(profile.sub) == challenge
        moved = replace(kept, details=replace(kept.details, phone_number=NEW_PHONE))
        with pytest.raises(ConcurrentUpdate):  # stale version: the challenge stays too
            await store.save_profile(replace(moved, version=profile.version), drop_challenge=True)
        assert await store.get_challenge(profile.sub) == challenge
        await store.save_profile(moved, drop_challenge=True)
        assert await store.get_challenge(profile.sub) is None

    run(scenario)


def test_timestamps_keep_their_microseconds_and_timezone(store: UserStore) -> None:
    async def scenario() -> None:
        profile, challenge = await _with_challenge(store)
        stored = await store.get_challenge(profile.sub)
        assert stored == challenge and stored is not None
        assert (stored.created_at, stored.expires_at) == (NOW, NOW + timedelta(minutes=10))
        assert stored.created_at.tzinfo is not None

    run(scenario)


# -- phone challenges ---------------------------------------------------------------------


def test_one_challenge_per_customer_replaced_only_as_read(store: UserStore) -> None:
    async def scenario() -> None:
        profile, first = await _with_challenge(store)
        assert await store.get_challenge(profile.sub) == first
        second = _challenge(profile, id="c2", at=NOW + timedelta(seconds=30))
        with pytest.raises(ConcurrentUpdate):  # "none stored" is stale
            await store.save_challenge(second, replacing=None, profile=profile, usage=[])
        with pytest.raises(ConcurrentUpdate):  # a try was spent since
            await store.save_challenge(second, replacing=first.spent(), profile=profile, usage=[])
        assert await store.get_challenge(profile.sub) == first
        await store.save_challenge(second, replacing=first, profile=profile, usage=[])
        assert await store.get_challenge(profile.sub) == second

    run(scenario)


def test_a_challenge_needs_the_profile_as_read(store: UserStore) -> None:
    async def scenario() -> None:
        profile = await _created(store)
        await store.save_profile(replace(profile, details=replace(profile.details, phone_number=NEW_PHONE)))
        log = UsageLog(_mine()).with_sent(NOW)
        with pytest.raises(ConcurrentUpdate):
            await store.save_challenge(_challenge(profile), replacing=None, profile=profile, usage=[log])
        # all or nothing: neither the challenge nor the usage was written
        assert await store.get_challenge(profile.sub) is None
        assert await store.get_usage(_mine()) == UsageLog(_mine())

    run(scenario)


def test_usage_logs_are_versioned(store: UserStore) -> None:
    async def scenario() -> None:
        profile = await _created(store)
        assert await store.get_usage(_mine()) == UsageLog(_mine())
        assert await store.get_usage(DEST) == UsageLog(DEST)
        mine, theirs = UsageLog(_mine()).with_sent(NOW), UsageLog(DEST).with_sent(NOW)
        await store.save_challenge(_challenge(profile), replacing=None, profile=profile, usage=[mine, theirs])
        assert await store.get_usage(_mine()) == replace(mine, version=1)
        assert await store.get_usage(DEST) == replace(theirs, version=1)
        assert await store.get_usage(UsageScope(ScopeKind.DESTINATION, "another-number")) == UsageLog(
            UsageScope(ScopeKind.DESTINATION, "another-number")
        )
        # A log written from a stale read is refused, and so is the rest of the write.
        first = await store.get_challenge(profile.sub)
        again = _challenge(profile, id="c2", at=NOW + timedelta(seconds=30))
        with pytest.raises(ConcurrentUpdate):
            await store.save_challenge(
                again, replacing=first, profile=profile, usage=[theirs.with_sent(again.created_at)]
            )
        assert await store.get_challenge(profile.sub) == first
        assert await store.get_usage(DEST) == replace(theirs, version=1)
        # The log is stored as given: the service drops what no longer counts.
        pruned = replace(theirs, version=1, sent=(again.created_at,))
        await store.save_challenge(again, replacing=first, profile=profile, usage=[pruned])
        assert await store.get_usage(DEST) == replace(pruned, version=2)

    run(scenario)


def test_a_spent_try_is_stored_with_the_wrong_code(store: UserStore) -> None:
    async def scenario() -> None:
        profile, challenge = await _with_challenge(store)
        log = UsageLog(_mine()).with_wrong(NOW)
        await store.spend_attempt(challenge.spent(), usage=log)
        stored = await store.get_challenge(profile.sub)
        assert stored == challenge.spent() and stored.attempts_remaining == 4
        assert await store.get_usage(_mine()) == replace(log, version=1)
        # The same try spent again (a parallel guess that read the same challenge) is refused.
        with pytest.raises(ConcurrentUpdate):
            await store.spend_attempt(challenge.spent(), usage=replace(log, version=1))
        with pytest.raises(ConcurrentUpdate):  # a stale log refuses the try too
            await store.spend_attempt(challenge.spent().spent(), usage=log)
        assert await store.get_challenge(profile.sub) == challenge.spent()

    run(scenario)


def test_verifying_removes_the_challenge_and_saves_the_profile_together(store: UserStore) -> None:
    async def scenario() -> None:
        profile, challenge = await _with_challenge(store)
        later = NOW + timedelta(minutes=2)
        verified = replace(profile, phone_verified=True, updated_at=later)
        with pytest.raises(ConcurrentUpdate):  # the challenge moved (a try was spent)
            await store.verify_phone(challenge.spent(), verified)
        with pytest.raises(ConcurrentUpdate):  # the profile moved
            await store.verify_phone(challenge, replace(verified, version=profile.version + 1))
        assert await store.get_challenge(profile.sub) == challenge
        assert (await store.get_profile(profile.sub)) == profile
        saved = await store.verify_phone(challenge, verified)
        assert saved == replace(verified, version=profile.version + 1)
        assert await store.get_profile(profile.sub) == saved
        assert await store.get_challenge(profile.sub) is None
        with pytest.raises(ConcurrentUpdate):  # once
            await store.verify_phone(challenge, saved)

    run(scenario)


def test_discard_only_the_named_challenge(store: UserStore) -> None:
    async def scenario() -> None:
        profile, challenge = await _with_challenge(store)
        await store.discard_challenge(profile.sub, "another-id")
        assert await store.get_challenge(profile.sub) == challenge
        await store.discard_challenge(profile.sub, challenge.id)
        assert await store.get_challenge(profile.sub) is None
        await store.discard_challenge(profile.sub, challenge.id)  # already gone: nothing to do

    run(scenario)


def test_verification_state_reads_everything_at_once(store: UserStore) -> None:
    async def scenario() -> None:
        empty = await store.verification_state("customer-a")
        assert (empty.profile, empty.challenge, empty.usage) == (None, None, UsageLog(_mine()))
        profile = await _created(store)
        log = UsageLog(_mine()).with_sent(NOW)
        await store.save_challenge(_challenge(profile), replacing=None, profile=profile, usage=[log])
        state = await store.verification_state("customer-a")
        assert state.profile == profile
        assert state.challenge == _challenge(profile)
        assert state.usage == replace(log, version=1)
        assert (await store.verification_state("customer-b")).profile is None

    run(scenario)


# -- concurrency: conditional writes let exactly one of many racing writers through -----------


def test_concurrent_saves_of_one_version_store_one(store: UserStore) -> None:
    async def scenario() -> tuple[list[str], Profile | None]:
        profile = await _created(store)
        outcomes: list[str] = []

        async def save(years: int) -> None:
            try:
                await store.save_profile(replace(profile, details=replace(profile.details, employment_years=years)))
                outcomes.append("saved")
            except ConcurrentUpdate:
                outcomes.append("refused")

        async with anyio.create_task_group() as tg:
            for years in range(8):
                tg.start_soon(save, years)
        return outcomes, await store.get_profile(profile.sub)

    outcomes, final = run(scenario)
    assert sorted(outcomes) == ["refused"] * 7 + ["saved"]
    assert final is not None and final.version == 2


def test_concurrent_spends_of_one_try_store_one(store: UserStore) -> None:
    async def scenario() -> list[str]:
        profile, challenge = await _with_challenge(store)
        outcomes: list[str] = []

        async def spend() -> None:
            try:
                await store.spend_attempt(challenge.spent(), usage=UsageLog(_mine()).with_wrong(NOW))
                outcomes.append("spent")
            except ConcurrentUpdate:
                outcomes.append("refused")

        async with anyio.create_task_group() as tg:
            for _ in range(6):
                tg.start_soon(spend)
        assert await store.get_challenge(profile.sub) == challenge.spent()
        return outcomes

    assert sorted(run(scenario)) == ["refused"] * 5 + ["spent"]


def test_concurrent_creates_with_one_key_store_one_profile(store: UserStore) -> None:
    async def scenario() -> list[CreateResult]:
        results: list[CreateResult] = []

        async def create() -> None:
            results.append(await store.create_profile(_profile(), key="same-key-1", response=_response()))

        async with anyio.create_task_group() as tg:
            for _ in range(6):
                tg.start_soon(create)
        return results

    results = run(scenario)
    outcomes = sorted(r.outcome.value for r in results)
    assert outcomes == [CreateOutcome.CREATED.value] + [CreateOutcome.REPLAYED.value] * 5
    assert all(r.response == _response() for r in results)


def test_concurrent_creates_with_many_keys_store_one_profile(store: UserStore) -> None:
    async def scenario() -> list[CreateResult]:
        results: list[CreateResult] = []

        async def create(i: int) -> None:
            results.append(await store.create_profile(_profile(), key=f"key-{i:08d}", response=_response()))

        async with anyio.create_task_group() as tg:
            for i in range(6):
                tg.start_soon(create, i)
        return results

    outcomes = sorted(r.outcome.value for r in run(scenario))
    assert outcomes == [CreateOutcome.CREATED.value] + [CreateOutcome.PROFILE_EXISTS.value] * 5
