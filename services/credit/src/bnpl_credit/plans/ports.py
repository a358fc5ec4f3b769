"""The storage port of plans, their payments and refunds.

Every write method is one transaction: the change, its payment/refund records, its outbox
events and (where given) the idempotency record land together or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bnpl_common.idempotency import StoredResponse

from bnpl_credit.applications.model import Application
from bnpl_credit.checkouts.ports import CheckoutWrite
from bnpl_credit.events.model import Event
from bnpl_credit.idempotency import NewIdempotency
from bnpl_credit.plans.ledger import Plan
from bnpl_credit.plans.model import Payment, Refund


class PlanStore(Protocol):
    async def save_confirmation(
        self,
        *,
        plan: Plan,
        application: Application,
        idempotency: NewIdempotency,
        payments: Sequence[Payment],
        events: Sequence[Event],
        checkout: CheckoutWrite | None = None,
    ) -> StoredResponse | None:
        """Create ``plan`` and store the CONFIRMED ``application`` if the stored one is still
        APPROVED and its hold had not ended at ``confirmed_at`` (else ``InvalidApplicationState``);
        the order's claim becomes the plan's (``OrderAlreadyFinanced`` if another holds it).
        None, or the winner's response for a taken key."""
        ...

    async def get_plan(self, customer_id: str, plan_id: str) -> Plan | None: ...

    async def find_plan(self, plan_id: str) -> Plan | None:
        """A plan by id alone (merchant refunds)."""
        ...

    async def find_plans_by_order(self, merchant_id: str, order_reference: str) -> list[Plan]:
        """Newest first."""
        ...

    async def list_plans(self, customer_id: str) -> list[Plan]:
        """Newest first."""
        ...

    async def list_open_plans(self) -> list[Plan]:
        """ACTIVE plans, in one read (the lateness sweeper). Their versions may be a moment
        old: an update made with them fails with ``ConcurrentUpdate``."""
        ...

    async def update_plan(
        self,
        plan: Plan,
        *,
        payments: Sequence[Payment] = (),
        refunds: Sequence[Refund] = (),
        idempotency: NewIdempotency | None,
        events: Sequence[Event],
        checkout: CheckoutWrite | None = None,
    ) -> StoredResponse | None:
        """Replace the plan if its stored version is still ``plan.version`` (else
        ``ConcurrentUpdate``), with its payments, refunds, events and key. A plan now
        REFUNDED releases its order's claim."""
        ...

    async def list_payments(self, customer_id: str, plan_id: str) -> list[Payment]:
        """Oldest first."""
        ...

    async def list_refunds(self, customer_id: str, plan_id: str) -> list[Refund]:
        """Oldest first."""
        ...
