"""One retry policy for storage contention, applied by the services (never inside adapters).

An adapter does one conditional write and raises :class:`~bnpl_common.errors.ConcurrentUpdate`
when another request changed the data since it was read. The service then reads again,
decides again and writes again: the business decision must be re-taken on fresh data, which
only the service can do. Between attempts it sleeps a random time ("full jitter": uniform
between 0 and an exponentially growing bound), so racing requests spread out instead of
colliding again in lockstep. When every attempt lost, the last ``ConcurrentUpdate`` goes
to the caller (409).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import anyio

from bnpl_common.errors import ConcurrentUpdate

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently a lost race is tried again."""

    attempts: int = 10
    base_delay: float = 0.005  # seconds before the second attempt, at most
    max_delay: float = 0.2  # the bound stops growing here
    retry_on: tuple[type[BaseException], ...] = (ConcurrentUpdate,)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if not 0 <= self.base_delay <= self.max_delay:
            raise ValueError("need 0 <= base_delay <= max_delay")

    def delay(self, retry: int, *, uniform: Callable[[float, float], float] = random.uniform) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the second attempt)."""
        bound = min(self.max_delay, self.base_delay * 2 ** (retry - 1))
        return uniform(0.0, bound)  # jitter, not a secret: random, not secrets

    def is_contention(self, exc: BaseException) -> bool:
        return isinstance(exc, self.retry_on)


CONTENTION = RetryPolicy()
"""The policy both services use for optimistic-concurrency conflicts."""

Sleep = Callable[[float], Awaitable[None]]


async def retry_on_contention(
    operation: Callable[[], Awaitable[T]], *, policy: RetryPolicy = CONTENTION, sleep: Sleep = anyio.sleep
) -> T:
    """Await ``operation()`` until it does not raise one of ``policy.retry_on``, at most
    ``policy.attempts`` times; the last attempt's exception propagates. ``operation`` must
    read what it decides on itself, so each attempt decides on fresh data."""
    for retry in range(policy.attempts):
        if retry:
            await sleep(policy.delay(retry))
        try:
            return await operation()
        except policy.retry_on:
            if retry == policy.attempts - 1:
                raise
    raise AssertionError("unreachable: the last attempt returns or raises")  # pragma: no cover
