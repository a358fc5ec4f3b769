"""What the credit line reads: one consistent snapshot of a customer's account, held
approvals and plans (a reservation is later made conditional on it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bnpl_credit.applications.model import Application
from bnpl_credit.credit_line.model import Account
from bnpl_credit.plans.ledger import Plan


@dataclass(frozen=True, slots=True)
class CustomerSnapshot:
    """Taken so that a later reservation can be made conditional on it (``account.version``,
    or no account yet)."""

    account: Account | None
    approved_applications: tuple[Application, ...]  # stored APPROVED (held until expiresAt)
    plans: tuple[Plan, ...]


class CreditLineStore(Protocol):
    async def snapshot(self, customer_id: str) -> CustomerSnapshot:
        """Account first, then applications, then plans; strongly consistent."""
        ...
