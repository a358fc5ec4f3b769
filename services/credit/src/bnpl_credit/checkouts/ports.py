"""What checkout sessions need from storage (both credit store adapters implement it).

A session is written conditioned on the version it was read at (``session.version``; 0 for a
new one) and stored at that version + 1. Writes that change a session together with an
application or a plan pass a :class:`CheckoutWrite` to the store's ``save_decision``,
``save_confirmation`` or ``update_plan``: one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bnpl_common.errors import ConcurrentUpdate
from bnpl_common.idempotency import StoredResponse

from bnpl_credit.applications.model import Application
from bnpl_credit.checkouts.model import CheckoutSession
from bnpl_credit.events.model import Event
from bnpl_credit.idempotency import NewIdempotency


class CheckoutChanged(ConcurrentUpdate):
    """The session changed since it was read: read it again and decide again."""


@dataclass(frozen=True, slots=True)
class CheckoutWrite:
    session: CheckoutSession  # the new state; its version is the one read (0: new)
    events: Sequence[Event] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class CheckoutCursor:
    created_at: datetime
    checkout_id: str


class CheckoutStore(Protocol):
    async def save_checkout(self, write: CheckoutWrite, *, idempotency: NewIdempotency | None) -> StoredResponse | None:
        """Write the session (and its events, and the key): None when written, the winner's
        response when the key was taken meanwhile; :class:`CheckoutChanged` on a lost race."""
        ...

    async def get_checkout(self, checkout_id: str) -> CheckoutSession | None:
        """Any merchant's session: the caller checks whose it is."""
        ...

    async def checkout_by_token(self, token: str) -> CheckoutSession | None: ...

    async def checkout_by_application(self, application_id: str) -> CheckoutSession | None: ...

    async def checkout_ids_of(self, application_ids: Sequence[str]) -> dict[str, str]:
        """``{applicationId: checkoutId}`` for those of ``application_ids`` made for a session."""
        ...

    async def list_checkouts(
        self, merchant_id: str, *, limit: int, after: CheckoutCursor | None
    ) -> list[CheckoutSession]:
        """The merchant's sessions, newest first."""
        ...

    async def due_checkouts(self, *, now: datetime, limit: int) -> list[CheckoutSession]:
        """Sessions whose deadline (end of OPEN, of the hold, of the authorization) has passed."""
        ...


class CheckoutLink(Protocol):
    """A session an application is made for: deciding stores the session's move with the decision."""

    @property
    def checkout_id(self) -> str: ...

    async def write_for(self, application: Application, now: datetime) -> CheckoutWrite:
        """The session decided by ``application`` (read afresh), with its event."""
        ...
