"""Shape of ``GET /v1/credit-line``."""

from __future__ import annotations

from pydantic import Field

from bnpl_credit.schemas import CamelModel, Money


class CreditLineOut(CamelModel):
    credit_limit: Money | None
    exposure: Money | None
    available_credit: Money | None
    shared_accounts: int = Field(
        default=0, description="other accounts of the same person that share this line (one person, one line)"
    )
