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
    limit_reasons: list[str] = Field(
        default_factory=list, description="why the limit is what it is: where it started, how it grew or froze"
    )
    how_to_raise: str | None = Field(default=None, description="what would raise the limit (null: nothing now)")
