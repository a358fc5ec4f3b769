"""Changing a stored plan once per idempotency key: the one way payments, refunds and
anything else that moves money on a plan write it.

A change is built on the plan as read (:class:`PlanChange`: the aggregate after its method
ran, the records and events it produced, the response to give) and stored on the version it
was read at. A retry with the key gets the first response; the same key with another request
is refused; a change that lost the race to another one is built again on the fresh plan.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from bnpl_common.clock import Clock
from bnpl_common.idempotency import StoredResponse, ensure_same_request
from bnpl_common.retry import retry_on_contention

from bnpl_credit.events.model import Event
from bnpl_credit.idempotency import IdempotencyStore, NewIdempotency
from bnpl_credit.plans.ledger import Plan
from bnpl_credit.plans.model import Payment, Refund
from bnpl_credit.plans.ports import PlanStore


class PlanChangeStore(PlanStore, IdempotencyStore, Protocol):
    """What a plan change reads and writes."""


@dataclass(frozen=True, slots=True)
class PlanChange:
    plan: Plan  # changed by its own methods; carries the version it was read at
    response: dict[str, Any]  # the JSON body to answer (and to keep for retries)
    events: Sequence[Event]
    payments: Sequence[Payment] = field(default_factory=tuple)
    refunds: Sequence[Refund] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class ChangeOutcome:
    response: StoredResponse
    written: bool  # False: a retry, answered with the first response


async def change_plan_once(
    store: PlanChangeStore,
    clock: Clock,
    *,
    scope: str,
    key: str,
    request_fp: str,
    build: Callable[[datetime], Awaitable[PlanChange]],
) -> ChangeOutcome:
    """Build the change with ``build(now)`` on a fresh read and store it with the key."""

    async def attempt() -> ChangeOutcome:
        now = clock.now()
        stored = await store.get_idempotent(scope, key, now=now)
        if stored is not None:
            ensure_same_request(stored.fingerprint, request_fp)
            return ChangeOutcome(stored, written=False)
        change = await build(now)
        winner = await store.update_plan(
            change.plan,
            payments=change.payments,
            refunds=change.refunds,
            idempotency=NewIdempotency(scope, key, request_fp, 201, change.response, now),
            events=change.events,
        )
        if winner is not None:
            ensure_same_request(winner.fingerprint, request_fp)
            return ChangeOutcome(winner, written=False)
        return ChangeOutcome(StoredResponse(request_fp, 201, change.response), written=True)

    return await retry_on_contention(attempt)  # the shared contention policy
