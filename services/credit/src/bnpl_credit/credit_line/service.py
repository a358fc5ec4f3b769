"""The customer's credit line: limit (set at the first approval), exposure, what is left.

Exposure = what approvals still hold (their plan's total of payments, until confirmed,
cancelled or expired) + what is still owed on active plans (late fees included). The limit
is set once, from the risk grade capped by affordability (policy); reservations are
serialised on the account's version, so concurrent approvals never push exposure past it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bnpl_credit.decision.offers import money
from bnpl_credit.decision.policy import Policy
from bnpl_credit.plans import ledger
from bnpl_credit.storage.port import Account, CreditStore, CustomerSnapshot
from bnpl_credit.timefmt import parse_iso


@dataclass(frozen=True, slots=True)
class CustomerHistory:
    """The customer's own record with us, as the decision and the credit line need it."""

    late_installments: int
    open_plans_outstanding: int  # in the credit line's currency (or any, before there is a line)
    held_approvals: int
    account: Account | None

    @property
    def exposure(self) -> int:
        return self.held_approvals + self.open_plans_outstanding


def hold_of(application: dict[str, Any]) -> dict[str, Any]:
    return application.get("hold") or application["amount"]


def customer_history(snapshot: CustomerSnapshot, *, now: datetime, policy: Policy) -> CustomerHistory:
    today = now.date()
    fees = policy.late_fees
    account = snapshot.account
    late = 0
    outstanding = 0
    for stored in snapshot.plans:
        plan = ledger.with_lateness(stored, today, fees)
        late += sum(1 for inst in plan["installments"] if ledger.was_ever_late(inst, today, fees.grace_days))
        if plan["status"] == "ACTIVE" and (account is None or plan["currency"] == account.currency):
            outstanding += ledger.totals(plan)["amountOutstanding"]
    held = 0
    for app in snapshot.approved_applications:
        if app["status"] != "APPROVED" or not app.get("expiresAt") or parse_iso(app["expiresAt"]) <= now:
            continue
        hold = hold_of(app)
        if account is None or hold["currency"] == account.currency:
            held += hold["amount"]
    return CustomerHistory(late, outstanding, held, account)


async def credit_line(store: CreditStore, policy: Policy, customer_id: str, *, now: datetime) -> dict[str, Any]:
    history = customer_history(await store.snapshot(customer_id), now=now, policy=policy)
    account = history.account
    if account is None:
        return {"creditLimit": None, "exposure": None, "availableCredit": None}
    exposure = history.exposure
    cur = account.currency
    return {
        "creditLimit": money(account.credit_limit, cur),
        "exposure": money(exposure, cur),
        "availableCredit": money(max(account.credit_limit - exposure, 0), cur),
    }
