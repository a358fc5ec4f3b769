"""Quotes: what each of the market's products would look like for an amount. Nothing is stored.

Monthly plans are priced at the policy's representative grade (``quote_grade``), so a quote's
rate is a representative example and is labelled as the market requires one to be (the UK's
"Representative APR"); the rate of a real offer depends on the decision.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from bnpl_credit.applications.model import Offer as OfferRecord
from bnpl_credit.decision.engine import lending_market
from bnpl_credit.decision.policy import PLAN_TYPES, Policy
from bnpl_credit.decision.schedule import build_schedule
from bnpl_credit.markets.catalog import MarketCatalog
from bnpl_credit.quotes.schemas import QuoteInput, QuoteOut
from bnpl_credit.schemas import Offer


def quote(policy: Policy, markets: MarketCatalog, *, body: QuoteInput, today: date) -> QuoteOut:
    currency = body.amount.currency
    market = lending_market(policy, markets, currency, field="amount.currency")
    wanted = body.plan_types or list(PLAN_TYPES)
    offers = []
    for plan_type in PLAN_TYPES:
        product = market.products.get(plan_type)
        if plan_type not in wanted or product is None:
            continue
        if not product.min_amount <= body.amount.amount <= product.max_amount:
            continue
        schedule = build_schedule(market, plan_type, amount=body.amount.amount, grade=policy.quote_grade, start=today)
        representative = replace(schedule.rate, label=market.rate.representative_label)
        offers.append(Offer.of(OfferRecord(plan_type, currency, replace(schedule, rate=representative))))
    return QuoteOut(offers=offers)
