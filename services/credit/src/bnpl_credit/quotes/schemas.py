"""Shapes of ``POST /v1/quotes``."""

from __future__ import annotations

from bnpl_credit.schemas import CamelModel, MoneyInput, Offer, PlanType


class QuoteInput(CamelModel):
    amount: MoneyInput
    plan_types: list[PlanType] | None = None


class QuoteOut(CamelModel):
    offers: list[Offer]
