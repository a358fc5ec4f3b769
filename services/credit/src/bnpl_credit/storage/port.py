"""The one storage port of the credit service (``CreditStore``) and the values it speaks.

Two adapters implement it and pass one contract suite (``tests/test_store_contract.py``):
:class:`~bnpl_credit.storage.sqlite.SqliteStore` (embedded default) and
:class:`~bnpl_credit.storage.dynamodb.DynamoStore` (AWS, docker compose). Documents are
JSON-able dicts the services build; adapters store them as they are, next to the few
attributes they query or condition on. Every write method is one transaction: the domain
change, its outbox events and the idempotency record land together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bnpl_common.errors import Conflict

from bnpl_credit.errors import OrderAlreadyFinanced


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """The first response given to an idempotency key."""

    fingerprint: str
    status_code: int
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class NewIdempotency:
    """An idempotency record to write with a change; the store keeps it for its TTL (>= 24 h)."""

    scope: str  # the customer's sub, or ``merchant:<key id>``
    key: str
    fingerprint: str
    status_code: int
    body: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Account:
    """The customer's credit line: limit and currency, set at the first approval.

    ``version`` moves with every reservation (approval), so that a reservation computed
    from a snapshot is written only if no other reservation landed in between.
    """

    credit_limit: int
    currency: str
    version: int


@dataclass(frozen=True, slots=True)
class CustomerSnapshot:
    """What a decision and the credit line read, taken so that a later reservation can be
    made conditional on it (``account.version``, or no account yet)."""

    account: Account | None
    approved_applications: list[dict[str, Any]]  # status APPROVED (held until expiresAt)
    plans: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Reservation:
    """Make a decision's write conditional on the account the snapshot saw.

    ``expected_version`` None: no account may exist yet and ``new_account`` is created.
    """

    expected_version: int | None
    new_account: Account | None = None


@dataclass(frozen=True, slots=True)
class PlanRecord:
    """A payment or a refund written with a plan update."""

    kind: str  # "payment" | "refund"
    doc: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OrderClaim:
    """The one live financing of a merchant order (``merchantId`` + ``orderReference``).

    An approval claims its order until ``held_until`` (its ``expiresAt``); confirming turns
    the claim into the plan's (``plan_id``, no end). Cancelling or expiring the approval, or a
    refund in full of the plan, releases it. A claim past ``held_until`` may be taken over.
    """

    application_id: str
    customer_id: str
    plan_id: str | None
    held_until: str | None  # ISO timestamp (sorts as text); None once a plan holds the order

    def is_live(self, now: str) -> bool:
        return self.plan_id is not None or (self.held_until is not None and self.held_until > now)


# application / plan statuses that give the order back
RELEASING_STATUSES = frozenset({"CANCELLED", "EXPIRED", "REFUNDED"})


def order_taken() -> OrderAlreadyFinanced:
    return OrderAlreadyFinanced(
        "this order is already being paid for with another approval or plan; one order backs one plan",
        field="order.orderReference",
    )


DEFAULT_IDEMPOTENCY_TTL = timedelta(hours=48)


class ReservationConflict(Conflict):
    """Another reservation of the same customer landed since the snapshot: decide again."""

    error_type = "ConcurrentUpdate"


class CreditStore(Protocol):
    async def ping(self) -> bool: ...

    async def close(self) -> None: ...

    # idempotency
    async def get_idempotent(self, scope: str, key: str, *, now: datetime) -> StoredResponse | None: ...

    # applications and decisions
    async def snapshot(self, customer_id: str) -> CustomerSnapshot: ...

    async def get_order_claim(self, merchant_id: str, order_reference: str, *, now: str) -> OrderClaim | None:
        """The live claim on a merchant order (an unexpired approval or a plan), if any."""
        ...

    async def save_decision(
        self,
        *,
        application: dict[str, Any],
        record: dict[str, Any],
        idempotency: NewIdempotency,
        events: list[dict[str, Any]],
        reservation: Reservation | None,
    ) -> StoredResponse | None:
        """Store a decided application; None, or the winner's response when the key was taken
        meanwhile. Raises :class:`ReservationConflict` when ``reservation`` no longer holds. An
        approval claims its order in the same transaction (``OrderAlreadyFinanced`` when another
        live approval or plan holds it)."""
        ...

    async def get_application(self, customer_id: str, application_id: str) -> dict[str, Any] | None: ...

    async def get_decision_record(self, customer_id: str, application_id: str) -> dict[str, Any] | None: ...

    async def list_applications(
        self, customer_id: str, *, limit: int, after: tuple[str, str] | None
    ) -> list[dict[str, Any]]:
        """Newest first (createdAt, id descending), strictly after the ``(createdAt, id)`` cursor."""
        ...

    async def transition_application(
        self,
        customer_id: str,
        application_id: str,
        *,
        expect_status: str,
        not_expired_at: str,
        update: dict[str, Any],
        events: list[dict[str, Any]],
    ) -> dict[str, Any] | None:
        """Apply ``update`` if the application is ``expect_status`` and ``expiresAt > not_expired_at``;
        a cancellation releases the application's claim on its order."""
        ...

    async def list_expired_approvals(self, *, now: str, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` applications still stored APPROVED whose hold ended (``expiresAt <= now``),
        any customer, earliest expiry first (the expiry sweeper)."""
        ...

    async def expire_application(
        self, customer_id: str, application_id: str, *, now: str, update: dict[str, Any], events: list[dict[str, Any]]
    ) -> dict[str, Any] | None:
        """Apply ``update`` (status EXPIRED) with ``events`` if the application is still APPROVED and
        ``expiresAt <= now``; the updated document, or None when it was confirmed, cancelled or
        expired meanwhile (a confirm and an expiry exclude each other). Releases the order's claim."""
        ...

    # plans
    async def confirm(
        self,
        *,
        plan: dict[str, Any],
        application_update: dict[str, Any],
        not_expired_at: str,
        idempotency: NewIdempotency,
        records: list[PlanRecord],
        events: list[dict[str, Any]],
    ) -> StoredResponse | None:
        """Create the plan if its application is still APPROVED and unexpired (else
        ``InvalidApplicationState``); the order's claim becomes the plan's (``OrderAlreadyFinanced``
        if another holds it). None, or the winner's response for a taken key."""
        ...

    async def get_plan(self, customer_id: str, plan_id: str) -> tuple[dict[str, Any], int] | None: ...

    async def find_plan(self, plan_id: str) -> tuple[dict[str, Any], int] | None:
        """A plan by id alone (merchant refunds, the sweeper)."""
        ...

    async def find_plans_by_order(self, merchant_id: str, order_reference: str) -> list[dict[str, Any]]: ...

    async def list_plans(self, customer_id: str) -> list[dict[str, Any]]:
        """Newest first."""
        ...

    async def list_open_plans(self) -> list[tuple[dict[str, Any], int]]:
        """ACTIVE plans with their versions, in one read (the lateness sweeper). The versions
        may be a moment old: an update made with them fails with ``ConcurrentUpdate``."""
        ...

    async def update_plan(
        self,
        *,
        plan: dict[str, Any],
        expected_version: int,
        records: list[PlanRecord],
        idempotency: NewIdempotency | None,
        events: list[dict[str, Any]],
    ) -> StoredResponse | None:
        """Replace the plan if its version is still ``expected_version`` (else
        ``ConcurrentUpdate``), with its payment/refund records, events and key. A plan now
        REFUNDED releases its order's claim."""
        ...

    async def list_records(self, customer_id: str, plan_id: str, kind: str) -> list[dict[str, Any]]:
        """Payments or refunds of a plan, oldest first."""
        ...

    # outbox
    async def pending_events(self, *, limit: int) -> list[dict[str, Any]]:
        """Unpublished events, oldest first."""
        ...

    async def mark_published(self, event_ids: list[str], *, published_at: datetime) -> None: ...

    async def purge_expired(self, *, now: datetime) -> int:
        """Drop idempotency records past their expiry (DynamoDB's TTL does this by itself)."""
        ...
