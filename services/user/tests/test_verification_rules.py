"""The one-time-code rules of ``verification/service.py`` under concurrency, on both storage
adapters: racing requests are decided again on fresh data, so no cap, try or verification
is ever shared or lost. (The REST tests cover the rules one request at a time.)"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import anyio
import pytest
from bnpl_common.clock import FixedClock
from bnpl_common.idempotency import StoredResponse
from bnpl_user.errors import CodeMismatch, NoVerificationPending, TooManyAttempts, TooManyRequests
from bnpl_user.profiles import service as profiles
from bnpl_user.profiles.finances import FinancePolicy
from bnpl_user.profiles.model import Profile, ProfileDetails
from bnpl_user.profiles.schemas import ProfileInput
from bnpl_user.storage.dynamodb import DynamoUserStore
from bnpl_user.storage.port import UserStore
from bnpl_user.storage.sqlite import SqliteUserStore
from bnpl_user.testing import profile_input
from bnpl_user.verification import service
from bnpl_user.verification.model import OtpPolicy, ScopeKind, UsageScope

T = TypeVar("T")
NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
POLICY = OtpPolicy(pepper="test-pepper")
_CODE = re.compile(r"\b([0-9]{6})\b")


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


class Inbox:
    """A notifier that keeps the codes it was asked to send."""

    def __init__(self) -> None:
        self.codes: list[str] = []

    async def send_sms(self, to: str, body: str) -> None:
        match = _CODE.search(body)
        assert match is not None
        self.codes.append(match.group(1))


async def _customer(store: UserStore, sub: str = "customer-a", phone: str = "+447700900789") -> None:
    body = ProfileInput.model_validate(profile_input(phoneNumber=phone))
    created = await profiles.create_profile(
        store,
        sub,
        details=body.to_details(),
        request_fingerprint=profiles.create_fingerprint(body),
        idempotency_key=f"key-{sub}",
        clock=FixedClock(NOW),
    )
    assert isinstance(created, StoredResponse) and created.status_code == 201


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def _outcome(call: Awaitable[object]) -> str:
    try:
        await call
    except (CodeMismatch, TooManyAttempts, TooManyRequests, NoVerificationPending) as error:
        return error.error_type
    return "ok"


def test_concurrent_codes_to_one_number_stop_at_the_cap(store: UserStore) -> None:
    async def scenario() -> list[str]:
        subs = [f"customer-{n}" for n in range(8)]
        for sub in subs:
            await _customer(store, sub, phone="+447700900111")
        inbox, clock = Inbox(), FixedClock(NOW)
        outcomes: list[str] = []

        async def start(sub: str) -> None:
            outcomes.append(
                await _outcome(service.start_verification(store, sub, notifier=inbox, clock=clock, policy=POLICY))
            )

        async with anyio.create_task_group() as tg:
            for sub in subs:
                tg.start_soon(start, sub)
        assert len(inbox.codes) == 5
        profile = await store.get_profile(subs[0])
        assert profile is not None  # the same person on every account: one allowance for the number
        assert len((await store.get_usage(service.number_scope(POLICY, profile))).sent) == 5
        return outcomes

    assert sorted(run(scenario)) == ["TooManyRequests"] * 3 + ["ok"] * 5


def test_concurrent_wrong_codes_spend_exactly_the_allowed_attempts(store: UserStore) -> None:
    async def scenario() -> list[str]:
        await _customer(store)
        inbox, clock = Inbox(), FixedClock(NOW)
        await service.start_verification(store, "customer-a", notifier=inbox, clock=clock, policy=POLICY)
        wrong = _wrong(inbox.codes[0])
        outcomes: list[str] = []

        async def guess() -> None:
            confirm = service.confirm_verification(store, "customer-a", code=wrong, clock=clock, policy=POLICY)
            outcomes.append(await _outcome(confirm))

        async with anyio.create_task_group() as tg:
            for _ in range(12):
                tg.start_soon(guess)
        challenge = await store.get_challenge("customer-a")
        assert challenge is not None and challenge.attempts == 5  # never more than allowed
        assert len((await store.get_usage(UsageScope(ScopeKind.CUSTOMER, "customer-a"))).wrong) == 5
        return outcomes

    # four mismatches with tries left, then the fifth kills the challenge; the rest find it dead
    assert sorted(run(scenario)) == ["CodeMismatch"] * 4 + ["TooManyAttempts"] * 8


def test_concurrent_wrong_codes_stop_at_the_daily_cap(store: UserStore) -> None:
    async def scenario() -> list[str]:
        await _customer(store)
        inbox, clock = Inbox(), FixedClock(NOW)
        for n in range(2):  # 9 wrong codes over two challenges
            await service.start_verification(store, "customer-a", notifier=inbox, clock=clock, policy=POLICY)
            for _ in range(5 - n):
                wrong = _wrong(inbox.codes[-1])
                await _outcome(
                    service.confirm_verification(store, "customer-a", code=wrong, clock=clock, policy=POLICY)
                )
            clock.advance(POLICY.resend_after)
        await service.start_verification(store, "customer-a", notifier=inbox, clock=clock, policy=POLICY)
        wrong = _wrong(inbox.codes[-1])
        outcomes: list[str] = []

        async def guess() -> None:
            confirm = service.confirm_verification(store, "customer-a", code=wrong, clock=clock, policy=POLICY)
            outcomes.append(await _outcome(confirm))

        async with anyio.create_task_group() as tg:
            for _ in range(6):
                tg.start_soon(guess)
        return outcomes

    assert sorted(run(scenario)) == ["CodeMismatch"] + ["TooManyRequests"] * 5


def test_concurrent_right_codes_verify_once(store: UserStore) -> None:
    async def scenario() -> list[str]:
        await _customer(store)
        inbox, clock = Inbox(), FixedClock(NOW)
        await service.start_verification(store, "customer-a", notifier=inbox, clock=clock, policy=POLICY)
        outcomes: list[str] = []

        async def confirm() -> None:
            call = service.confirm_verification(store, "customer-a", code=inbox.codes[0], clock=clock, policy=POLICY)
            outcomes.append(await _outcome(call))

        async with anyio.create_task_group() as tg:
            for _ in range(6):
                tg.start_soon(confirm)
        profile = await store.get_profile("customer-a")
        assert profile is not None and profile.phone_verified
        return outcomes

    assert sorted(run(scenario)) == ["NoVerificationPending"] * 5 + ["ok"]


class OneMoreYear:
    """A partial update decided on whatever the profile holds when it is applied."""

    def changed_fields(self) -> frozenset[str]:
        return frozenset({"employment_years"})

    def apply_to(self, details: ProfileDetails) -> ProfileDetails:
        return replace(details, employment_years=details.employment_years + 1)


MANY_EDITS = FinancePolicy(edits=100)


def test_concurrent_updates_lose_nothing(store: UserStore) -> None:
    async def scenario() -> Profile | None:
        await _customer(store)
        start = await store.get_profile("customer-a")
        assert start is not None
        async with anyio.create_task_group() as tg:
            for _ in range(8):
                tg.start_soon(
                    lambda: profiles.update_profile(
                        store, "customer-a", changes=OneMoreYear(), clock=FixedClock(NOW), finances=MANY_EDITS
                    )
                )
        final = await store.get_profile("customer-a")
        assert final is not None and final.details.employment_years == start.details.employment_years + 8
        # each change of the declared finances moved their version once and is in the history
        assert final.finance_version == start.finance_version + 8 and len(final.finance_history) == 8
        return final

    run(scenario)


def test_a_challenge_for_another_number_is_void(store: UserStore) -> None:
    async def scenario() -> None:
        await _customer(store)
        inbox, clock = Inbox(), FixedClock(NOW)
        challenge = await service.start_verification(store, "customer-a", notifier=inbox, clock=clock, policy=POLICY)
        profile = await store.get_profile("customer-a")
        assert profile is not None
        # The number changed without the challenge being dropped (as by a write of an older version).
        await store.save_profile(replace(profile, details=replace(profile.details, phone_number="+33612345678")))
        right = inbox.codes[0]
        with pytest.raises(NoVerificationPending):
            await service.confirm_verification(store, "customer-a", code=right, clock=clock, policy=POLICY)
        assert await store.get_challenge("customer-a") is None  # discarded, not left guessable
        stored = await store.get_profile("customer-a")
        assert stored is not None and not stored.phone_verified
        assert challenge.phone_number == "+447700900789"

    run(scenario)


def test_a_rolling_window(store: UserStore) -> None:
    async def scenario() -> None:
        await _customer(store)
        inbox, clock = Inbox(), FixedClock(NOW)
        for _ in range(5):
            await service.start_verification(store, "customer-a", notifier=inbox, clock=clock, policy=POLICY)
            clock.advance(POLICY.resend_after)
        with pytest.raises(TooManyRequests) as capped:
            await service.start_verification(store, "customer-a", notifier=inbox, clock=clock, policy=POLICY)
        assert capped.value.info == {"retryAfterSeconds": 24 * 3600 - 5 * 30}
        clock.set(NOW + timedelta(hours=24, seconds=1))  # the first code left the window
        await service.start_verification(store, "customer-a", notifier=inbox, clock=clock, policy=POLICY)
        # the log keeps only what still counts
        usage = await store.get_usage(UsageScope(ScopeKind.CUSTOMER, "customer-a"))
        assert len(usage.sent) == 5 and min(usage.sent) > NOW

    run(scenario)
