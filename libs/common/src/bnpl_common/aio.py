"""Running blocking code (boto3, sqlite3, file writes) from async request paths."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import ParamSpec, TypeVar

import anyio.to_thread

P = ParamSpec("P")
T = TypeVar("T")


async def run_blocking(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``fn(*args, **kwargs)`` in a worker thread and return its result.

    anyio's thread pool rather than ``asyncio.to_thread``: it is the pool Starlette already
    uses for sync dependencies, so a process has one pool, bounded by one limiter (40
    threads), instead of a second executor sized by CPU count (6 threads on 2 cores), which
    would queue concurrent DynamoDB calls behind each other; it also works under any anyio
    backend the tests run. Context variables (the request id in the logs) are copied into
    the thread. If the caller is cancelled, it still waits for ``fn`` to finish, so a write
    is never left half-known.
    """
    return await anyio.to_thread.run_sync(partial(fn, *args, **kwargs))


async def run_abandoning(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Like :func:`run_blocking`, but a cancelled caller returns at once and leaves ``fn`` to
    finish in its thread, its result dropped. Only for calls that write nothing (a model
    scoring, a read), where a timeout must answer now rather than when the call ends."""
    return await anyio.to_thread.run_sync(partial(fn, *args, **kwargs), abandon_on_cancel=True)
