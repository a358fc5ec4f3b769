"""The storage port of payment methods and of collecting plans (both adapters implement it)."""

from __future__ import annotations

from typing import Protocol

from bnpl_credit.collections.model import PaymentProfile, PlanCollection


class PaymentStore(Protocol):
    async def get_payment_profile(self, customer_id: str) -> PaymentProfile | None: ...

    async def save_payment_profile(self, profile: PaymentProfile) -> None:
        """Create or replace the customer's profile (the last write wins: one shopper, one page)."""
        ...

    async def get_plan_collection(self, plan_id: str) -> PlanCollection | None: ...

    async def save_plan_collection(self, collection: PlanCollection) -> None:
        """Store ``collection`` if the stored one is still at ``collection.version`` (else
        ``ConcurrentUpdate``); the stored version becomes ``version + 1``."""
        ...
