"""Quotes: what each plan type would look like for an amount. Nothing is stored.

Monthly plans are priced at the policy's representative grade (``quote_grade``); the APR of
a real offer depends on the decision.
"""

from __future__ import annotations

from datetime import date

from bnpl_credit.applications.model import Offer as OfferRecord
from bnpl_credit.decision.policy import PLAN_TYPES, Policy
from bnpl_credit.decision.schedule import build_schedule
from bnpl_credit.errors import UnsupportedCurrency
from bnpl_credit.quotes.schemas import QuoteInput, QuoteOut
from bnpl_credit.schemas import Offer


def quote(policy: Policy, *, body: QuoteInput, today: date) -> QuoteOut:
    currency = body.amount.currency
    if currency not in policy.currencies:
        raise UnsupportedCurrency(
            f"{currency} is not supported; use one of {', '.join(sorted(policy.currencies))}", field="amount.currency"
        )
    wanted = body.plan_types or list(PLAN_TYPES)
    offers = []
    for plan_type in PLAN_TYPES:
        plan = policy.plan_types.get(plan_type)
        if plan_type not in wanted or plan is None:
            continue
        if not plan.min_amount <= body.amount.amount <= plan.max_amount:
            continue
        schedule = build_schedule(plan, amount=body.amount.amount, grade=policy.quote_grade, start=today)
        offers.append(Offer.of(OfferRecord(plan_type, currency, schedule)))
    return QuoteOut(offers=offers)
