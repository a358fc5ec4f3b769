"""The customer's credit line: limit (set at the first approval), exposure, what is left.

Exposure = what approvals still hold (their plan's total of payments, until confirmed,
cancelled or expired) + what is still owed on active plans (late fees included). The limit
is set once, from the risk grade capped by affordability (policy); reservations are
serialised on the account's version, so concurrent approvals never push exposure past it.
"""

from __future__ import annotations

from datetime import datetime

from bnpl_credit.credit_line.model import CustomerHistory
from bnpl_credit.credit_line.ports import CreditLineStore, CustomerSnapshot
from bnpl_credit.credit_line.schemas import CreditLineOut
from bnpl_credit.markets.catalog import MarketCatalog
from bnpl_credit.plans.ledger import late_fee_terms
from bnpl_credit.plans.model import PlanStatus
from bnpl_credit.schemas import Money

# an authorized checkout's plan holds its credit until it is captured, voided or expires
_OWED = frozenset({PlanStatus.ACTIVE, PlanStatus.AUTHORIZED})


def customer_history(snapshot: CustomerSnapshot, *, now: datetime, markets: MarketCatalog) -> CustomerHistory:
    today = now.date()
    account = snapshot.account
    late = 0
    outstanding = 0
    for stored in snapshot.plans:
        fees = late_fee_terms(markets, stored)
        plan = stored.as_of(today, fees)
        late += sum(1 for inst in plan.installments if inst.was_ever_late(today, fees.grace_days))
        if plan.status in _OWED and (account is None or plan.currency == account.currency):
            outstanding += plan.totals().amount_outstanding
    held = sum(
        application.held_amount
        for application in snapshot.approved_applications
        if application.holds_credit_at(now) and (account is None or application.order.currency == account.currency)
    )
    return CustomerHistory(late, outstanding, held, account)


async def credit_line(
    store: CreditLineStore, markets: MarketCatalog, customer_id: str, *, now: datetime
) -> CreditLineOut:
    history = customer_history(await store.snapshot(customer_id), now=now, markets=markets)
    account = history.account
    if account is None:
        return CreditLineOut(credit_limit=None, exposure=None, available_credit=None)
    currency = account.currency
    return CreditLineOut(
        credit_limit=Money.of(account.credit_limit, currency),
        exposure=Money.of(history.exposure, currency),
        available_credit=Money.of(max(account.credit_limit - history.exposure, 0), currency),
    )
