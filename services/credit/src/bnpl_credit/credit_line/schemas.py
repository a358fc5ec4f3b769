"""Shape of ``GET /v1/credit-line``."""

from __future__ import annotations

from bnpl_credit.schemas import CamelModel, Money


class CreditLineOut(CamelModel):
    credit_limit: Money | None
    exposure: Money | None
    available_credit: Money | None
