"""The customer's credit line: limit (set at the first approval), exposure, what is left.

Exposure = what approvals still hold (their plan's total of payments, until confirmed,
cancelled or expired) + what is still owed on active plans (late fees included). The limit
is set once, from the risk grade capped by affordability (policy); reservations are
serialised on the account's version, so concurrent approvals never push exposure past it.

One person, one line: accounts that carry the same person key (the user service's HMAC of the
verified phone number, family name and date of birth) share the line of the first of them to
apply (its account item). Every member's approval reserves on that account's version, and the
exposure counts every member's approvals and plans, so three accounts of one person get one
line between them, and a second account is told that it shares it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bnpl_credit.credit_line.growth import GrowthRules, LimitStanding, explain, limit_standing, record_of
from bnpl_credit.credit_line.model import CustomerHistory
from bnpl_credit.credit_line.ports import CreditLineStore, CustomerSnapshot, PersonLine
from bnpl_credit.credit_line.schemas import CreditLineOut
from bnpl_credit.decision.engine import Decision, DecisionStatus, Reason
from bnpl_credit.decision.policy import Policy
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
    as_of = []
    for stored in snapshot.plans:
        fees = late_fee_terms(markets, stored)
        plan = stored.as_of(today, fees)
        as_of.append(plan)
        late += sum(1 for inst in plan.installments if inst.was_ever_late(today, fees.grace_days))
        if plan.status in _OWED and (account is None or plan.currency == account.currency):
            outstanding += plan.totals().amount_outstanding
    record = record_of(as_of, today=today, grace_days_of=lambda p: late_fee_terms(markets, p).grace_days)
    held = sum(
        application.held_amount
        for application in snapshot.approved_applications
        if application.holds_credit_at(now) and (account is None or application.order.currency == account.currency)
    )
    return CustomerHistory(late, outstanding, held, account, record.repaid_on_time, record.late_on)


SHARED_LINE = Reason(
    "SHARED_CREDIT_LINE",
    "You already have a credit line with us through another account; this account shares that line and its limit.",
)


async def link_line(
    store: CreditLineStore, customer_id: str, person_key: str | None, *, now: datetime
) -> PersonLine | None:
    """The person's line the customer belongs to (linking it on its first application)."""
    if person_key is None:
        return await store.person_of(customer_id)
    return await store.link_person(person_key, customer_id, now=now)


async def line_snapshot(
    store: CreditLineStore, customer_id: str, line: PersonLine | None, *, now: datetime | None = None
) -> CustomerSnapshot:
    """The holder's account (read first: reservations are conditional on it) with every
    member's approvals (those holding credit at ``now``, or every approval) and plans."""
    if line is None or line.members == (customer_id,):
        return await store.snapshot(customer_id, now=now)
    holder = await store.snapshot(line.holder, now=now)
    apps, plans = list(holder.approved_applications), list(holder.plans)
    for member in line.members:
        if member != line.holder:
            other = await store.snapshot(member, now=now)
            apps += other.approved_applications
            plans += other.plans
    return CustomerSnapshot(holder.account, tuple(apps), tuple(plans))


def shares_line(line: PersonLine | None, customer_id: str) -> bool:
    return line is not None and line.holder != customer_id


def with_shared_line_notice(decision: Decision, line: PersonLine | None, customer_id: str) -> Decision:
    """Tell a second account plainly that it uses its person's line (not on a decline's
    adverse-action reasons, which must be the reasons for the decline)."""
    if not shares_line(line, customer_id) or decision.status is DecisionStatus.DECLINED:
        return decision
    return replace(decision, reasons=(*decision.reasons, SHARED_LINE))


async def credit_line(
    store: CreditLineStore, markets: MarketCatalog, customer_id: str, *, now: datetime, policy: Policy | None = None
) -> CreditLineOut:
    """The line as the customer's record stands today; ``policy`` says how repayment moves the
    limit (without one, the first limit is the limit)."""
    line = await store.person_of(customer_id)
    history = customer_history(await line_snapshot(store, customer_id, line, now=now), now=now, markets=markets)
    account = history.account
    shared = len(line.members) - 1 if line is not None else 0
    standing = limit_standing(history, policy, today=now.date()) if policy else None
    if standing is None and account is not None:
        standing = LimitStanding(account.credit_limit, account.credit_limit, 0, None, True, None)
    if account is None or standing is None:
        return CreditLineOut(
            credit_limit=None,
            exposure=None,
            available_credit=None,
            shared_accounts=shared,
            limit_reasons=[],
            how_to_raise="Your first approved purchase sets your limit.",
        )
    currency = account.currency
    rules = GrowthRules.of(policy) if policy else None
    # money as the decisions' sentences write it (decision.affordability): "EUR 2,800.00"
    why, to_raise = explain(standing, rules, lambda m: f"{currency} {m / 100:,.2f}") if rules else ([], None)
    return CreditLineOut(
        credit_limit=Money.of(standing.limit, currency),
        exposure=Money.of(history.exposure, currency),
        available_credit=Money.of(max(standing.limit - history.exposure, 0), currency),
        shared_accounts=shared,
        limit_reasons=why,
        how_to_raise=to_raise,
    )
