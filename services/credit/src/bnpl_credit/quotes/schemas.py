"""Shapes of ``POST /v1/quotes``."""

from __future__ import annotations

from bnpl_credit.schemas import CamelModel, InputModel, MoneyInput, Offer, PlanType


class QuoteInput(InputModel):
    amount: MoneyInput
    plan_types: list[PlanType] | None = None


class QuoteOut(CamelModel):
    offers: list[Offer]
