"""The contention retry policy: how many attempts, which errors, how long between them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import pytest
from bnpl_common.errors import ConcurrentUpdate, Conflict
from bnpl_common.retry import CONTENTION, RetryPolicy, retry_on_contention


class Recorder:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.delays.append(seconds)


def _losing(times: int, result: str = "written") -> tuple[list[int], Callable[[], Awaitable[str]]]:
    calls: list[int] = []

    async def operation() -> str:
        calls.append(len(calls))
        if len(calls) <= times:
            raise ConcurrentUpdate()
        return result

    return calls, operation


def test_a_lost_race_is_tried_again_until_it_succeeds() -> None:
    calls, operation = _losing(3)
    recorder = Recorder()
    result = anyio.run(lambda: retry_on_contention(operation, sleep=recorder.sleep))
    assert result == "written"
    assert len(calls) == 4
    assert len(recorder.delays) == 3  # no wait before the first attempt


def test_after_the_last_attempt_the_conflict_reaches_the_caller() -> None:
    policy = RetryPolicy(attempts=3)
    calls, operation = _losing(10)
    recorder = Recorder()
    with pytest.raises(ConcurrentUpdate) as raised:
        anyio.run(lambda: retry_on_contention(operation, policy=policy, sleep=recorder.sleep))
    assert (raised.value.status_code, raised.value.error_type) == (409, "ConcurrentUpdate")
    assert len(calls) == 3 and len(recorder.delays) == 2


def test_other_errors_are_not_retried() -> None:
    calls: list[int] = []

    async def operation() -> None:
        calls.append(1)
        raise Conflict("a business conflict, not a race")

    with pytest.raises(Conflict):
        anyio.run(lambda: retry_on_contention(operation, sleep=Recorder().sleep))
    assert calls == [1]


def test_a_policy_can_name_its_own_contention_error() -> None:
    class ReservationMoved(Exception):
        pass

    attempts: list[int] = []

    async def operation() -> int:
        attempts.append(1)
        if len(attempts) < 2:
            raise ReservationMoved()
        return len(attempts)

    policy = RetryPolicy(retry_on=(ReservationMoved,))
    assert anyio.run(lambda: retry_on_contention(operation, policy=policy, sleep=Recorder().sleep)) == 2
    assert policy.is_contention(ReservationMoved()) and not policy.is_contention(ConcurrentUpdate())


def test_backoff_grows_to_its_cap_with_full_jitter() -> None:
    policy = RetryPolicy(attempts=10, base_delay=0.01, max_delay=0.05)
    upper = [policy.delay(retry, uniform=lambda low, high: high) for retry in range(1, 8)]
    assert upper == [0.01, 0.02, 0.04, 0.05, 0.05, 0.05, 0.05]
    assert all(policy.delay(retry, uniform=lambda low, high: low) == 0.0 for retry in range(1, 8))
    assert all(0 <= CONTENTION.delay(retry) <= CONTENTION.max_delay for retry in range(1, CONTENTION.attempts))


def test_nonsense_policies_are_refused() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(base_delay=1.0, max_delay=0.1)
