"""The credit policy: versioned data (``policies/*.json``), loaded and validated here.

The policy holds the risk rules only (knock-outs, cut-offs, affordability share, credit
limits, hold time) and how an order becomes the model's inputs (``currencies``,
``model_term_months``). What a product is and costs (limits, installments, rates by grade,
late fees) is the law and pricing of a market: :mod:`bnpl_credit.markets`, never here.

Nothing in this module decides anything by itself; :mod:`bnpl_credit.decision.engine`
reads these numbers. A new policy is a new file with a new ``version``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PlanTypeName = Literal["PAY_IN_4", "MONTHLY_3", "MONTHLY_6", "MONTHLY_12"]
PLAN_TYPES: tuple[PlanTypeName, ...] = ("PAY_IN_4", "MONTHLY_3", "MONTHLY_6", "MONTHLY_12")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CurrencyPolicy(_Frozen):
    # The model was trained on amounts in its own unit: this many minor units of the currency
    # make one. It belongs to the model's input mapping (retraining changes it), not to a
    # market's terms, so it is versioned with the risk rules; a currency without it cannot be
    # scored and is not lent in, whatever the markets offer.
    model_unit_minor: int = Field(gt=0)


class KnockOuts(_Frozen):
    min_age: int = 18
    max_late_installments: int = 0


class Affordability(_Frozen):
    max_installment_share_percent: int = Field(gt=0, le=100)


class Cutoffs(_Frozen):
    approve_max_pd: float = Field(ge=0, le=1)
    refer_max_pd: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> Cutoffs:
        if self.approve_max_pd > self.refer_max_pd:
            raise ValueError("approve_max_pd above refer_max_pd")
        return self


class CreditLineGrowth(_Frozen):
    """How repayment moves the limit (:mod:`bnpl_credit.credit_line.growth`)."""

    percent_per_plan_repaid_on_time: int = Field(ge=0, le=100)
    max_percent_of_initial: int = Field(ge=100)
    freeze_days_after_late: int = Field(ge=0)


class Policy(_Frozen):
    """One version of the credit policy."""

    version: str
    currencies: dict[str, CurrencyPolicy]
    # the model's ``Time`` input: the term in months it was trained to read for each product
    model_term_months: dict[PlanTypeName, int]
    quote_grade: str
    knock_outs: KnockOuts
    affordability: Affordability
    cutoffs: Cutoffs
    credit_limit_by_grade: dict[str, int]
    # the first limit is also at most this many months of income after expenses (None: grade only)
    credit_limit_income_multiple: int | None = Field(default=None, gt=0)
    credit_limit_rounding_minor: int = Field(default=1, gt=0)
    approval_hold_minutes: int = Field(gt=0)
    max_reasons: int = Field(default=4, gt=0)
    credit_line_growth: CreditLineGrowth | None = None  # None: the first limit never changes

    @model_validator(mode="after")
    def _every_product_mapped(self) -> Policy:
        missing = set(PLAN_TYPES) - set(self.model_term_months)
        if missing or any(months <= 0 for months in self.model_term_months.values()):
            raise ValueError(f"model_term_months needs a positive term for {sorted(missing) or 'every product'}")
        return self

    def initial_credit_limit(self, grade: str, *, monthly_income: int, monthly_expenses: int) -> int:
        """The limit set at the first approval: the grade's, capped by affordability."""
        limit = self.credit_limit_by_grade.get(grade, 0)
        if self.credit_limit_income_multiple is not None:
            disposable = max(monthly_income - monthly_expenses, 0)
            limit = min(limit, disposable * self.credit_limit_income_multiple)
        return limit - limit % self.credit_limit_rounding_minor


def load_policy(path: str | Path) -> Policy:
    """Read and validate a policy file."""
    return Policy.model_validate(json.loads(Path(path).read_text()))
