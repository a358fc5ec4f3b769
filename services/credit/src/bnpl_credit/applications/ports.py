"""The storage port of applications and decisions, and the values it speaks.

Every write method is one transaction: the change, its outbox events and (where given) the
idempotency record land together or not at all. The conditions named in each docstring are
checked atomically by the adapter; which change to make is the services' business.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bnpl_common.errors import ConcurrentUpdate
from bnpl_common.idempotency import StoredResponse

from bnpl_credit.applications.model import Application, DecisionRecord
from bnpl_credit.checkouts.ports import CheckoutWrite
from bnpl_credit.credit_line.model import Account
from bnpl_credit.errors import OrderAlreadyFinanced
from bnpl_credit.events.model import Event
from bnpl_credit.idempotency import NewIdempotency
from bnpl_credit.reviews.model import ReviewCase


@dataclass(frozen=True, slots=True)
class Reservation:
    """Make a decision's write conditional on the account the snapshot saw.

    ``expected_version`` None: no account may exist yet and ``new_account`` is created.
    ``holder``: whose account item holds the line (the person's first account), if not the
    applicant's own.
    """

    expected_version: int | None
    new_account: Account | None = None
    holder: str | None = None  # the account whose line it is (a person's first); None: the applicant's


class ReservationConflict(ConcurrentUpdate):
    """Another reservation of the same customer landed since the snapshot: decide again."""


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
    held_until: datetime | None  # None once a plan holds the order

    def is_live(self, now: datetime) -> bool:
        return self.plan_id is not None or (self.held_until is not None and self.held_until > now)


def order_taken() -> OrderAlreadyFinanced:
    return OrderAlreadyFinanced(
        "this order is already being paid for with another approval or plan; one order backs one plan",
        field="order.orderReference",
    )


@dataclass(frozen=True, slots=True)
class PageCursor:
    """Where a page of a customer's applications (newest first) ended."""

    created_at: datetime
    application_id: str


class ApplicationStore(Protocol):
    async def get_order_claim(self, merchant_id: str, order_reference: str, *, now: datetime) -> OrderClaim | None:
        """The live claim on a merchant order (an unexpired approval or a plan), if any."""
        ...

    async def save_decision(
        self,
        *,
        application: Application,
        record: DecisionRecord,
        idempotency: NewIdempotency,
        events: Sequence[Event],
        reservation: Reservation | None,
        checkout: CheckoutWrite | None = None,
        review: ReviewCase | None = None,
    ) -> StoredResponse | None:
        """Store a decided application with its record (and the review case a REFERRED one
        opens); None, or the winner's response when the key was taken meanwhile. Raises
        :class:`ReservationConflict` when ``reservation`` no longer holds. An APPROVED
        application claims its order in the same transaction (``OrderAlreadyFinanced`` when
        another live approval or plan holds it)."""
        ...

    async def get_application(self, customer_id: str, application_id: str) -> Application | None: ...

    async def get_decision_record(self, customer_id: str, application_id: str) -> DecisionRecord | None: ...

    async def list_applications(self, customer_id: str, *, limit: int, after: PageCursor | None) -> list[Application]:
        """Newest first (createdAt, id descending), strictly after ``after``."""
        ...

    async def newest_decline(self, customer_id: str, *, since: datetime) -> Application | None:
        """The customer's newest application decided DECLINED (by the engine or a review) and
        created after ``since``; read without decoding the customer's other applications."""
        ...

    async def save_cancellation(self, application: Application, *, events: Sequence[Event]) -> bool:
        """Store the CANCELLED ``application`` if the stored one is still APPROVED and its hold
        had not ended at ``cancelled_at``; releases its claim on the order. False if not;
        ``ConcurrentUpdate`` if another write to the same items got in the way (try again)."""
        ...

    async def list_expired_approvals(self, *, now: datetime, limit: int) -> list[Application]:
        """Up to ``limit`` applications still stored APPROVED whose hold ended (``expiresAt <= now``),
        any customer, earliest expiry first (the expiry sweeper)."""
        ...

    async def save_expiry(self, application: Application, *, events: Sequence[Event]) -> bool:
        """Store the EXPIRED ``application`` if the stored one is still APPROVED and its hold
        ended by ``expired_at``; releases its claim on the order. False if it was confirmed,
        cancelled or expired meanwhile (a confirm and an expiry exclude each other);
        ``ConcurrentUpdate`` if another write to the same items got in the way."""
        ...
