"""The storage port of payment methods and of collecting plans (both adapters implement it)."""

from __future__ import annotations

from typing import Protocol

from bnpl_credit.collections.model import PaymentProfile, PendingRefund, PlanCollection


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

    async def save_setup_owner(self, setup_id: str, customer_id: str) -> None:
        """Remember whose setup ``setup_id`` is (a PSP webhook names only the setup)."""
        ...

    async def get_setup_owner(self, setup_id: str) -> str | None: ...

    async def psp_event_seen(self, event_id: str) -> bool:
        """Whether the PSP event ``event_id`` was applied already."""
        ...

    async def mark_psp_event(self, event_id: str, *, expires_at: int) -> None:
        """Record that the PSP event ``event_id`` was applied (kept until ``expires_at``, unix seconds)."""
        ...

    async def save_pending_refund(self, pending: PendingRefund) -> None:
        """Keep a refund part to send again (the same key again replaces it)."""
        ...

    async def list_pending_refunds(self, *, limit: int = 100) -> list[PendingRefund]: ...

    async def delete_pending_refund(self, key: str) -> None: ...
