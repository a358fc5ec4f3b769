"""What the credit line reads: one consistent snapshot of a customer's account, held
approvals and plans (a reservation is later made conditional on it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bnpl_credit.applications.model import Application
from bnpl_credit.credit_line.model import Account
from bnpl_credit.plans.ledger import Plan


@dataclass(frozen=True, slots=True)
class CustomerSnapshot:
    """Taken so that a later reservation can be made conditional on it (``account.version``,
    or no account yet)."""

    account: Account | None
    # stored APPROVED (held until expiresAt) or REFERRED (held while the review case is open)
    approved_applications: tuple[Application, ...]
    plans: tuple[Plan, ...]


@dataclass(frozen=True, slots=True)
class PersonLine:
    """The accounts of one person (``person_key``), first linked first: the first, ``holder``,
    holds the person's one credit line (its account item), which every member's approval
    reserves on."""

    person_key: str
    members: tuple[str, ...]

    @property
    def holder(self) -> str:
        return self.members[0]


class PersonStore(Protocol):
    async def link_person(self, person_key: str, customer_id: str, *, now: datetime) -> PersonLine:
        """Make ``customer_id`` a member of ``person_key`` unless it is a member of a person
        already (membership does not move: a changed phone number cannot leave a line behind);
        return the line of the person it belongs to."""
        ...

    async def person_of(self, customer_id: str) -> PersonLine | None:
        """The line of the person ``customer_id`` belongs to, if it was linked."""
        ...


class CreditLineStore(PersonStore, Protocol):
    async def snapshot(self, customer_id: str, *, now: datetime | None = None) -> CustomerSnapshot:
        """Account first, then applications, then plans; strongly consistent. With ``now`` the
        approvals may be limited to those whose hold has not ended at ``now`` (what a decision
        needs); without it every stored APPROVED application is read."""
        ...
