"""The credit policy: versioned data (``policies/*.json``), loaded and validated here.

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
    model_unit_minor: int = Field(gt=0)


class PlanTypePolicy(_Frozen):
    min_amount: int = Field(gt=0)
    max_amount: int = Field(gt=0)
    kind: Literal["split", "amortising"]
    installments: int = Field(gt=0, le=60)
    interval_days: int | None = Field(default=None, gt=0)
    model_term_months: int = Field(gt=0)
    apr_basis_points: dict[str, int]

    @model_validator(mode="after")
    def _check(self) -> PlanTypePolicy:
        if self.min_amount > self.max_amount:
            raise ValueError("min_amount above max_amount")
        if self.kind == "split" and self.interval_days is None:
            raise ValueError("a split plan needs interval_days")
        if any(bp < 0 for bp in self.apr_basis_points.values()):
            raise ValueError("negative APR")
        return self


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


class LateFees(_Frozen):
    """An installment unpaid ``grace_days`` after its due date is LATE and bears one fee:
    ``amount_minor`` of its currency, capped at ``max_percent_of_installment`` of it."""

    grace_days: int = Field(default=7, ge=0, le=60)
    amount_minor: dict[str, int] = Field(default_factory=dict)
    max_percent_of_installment: int = Field(default=25, ge=0, le=100)

    def fee(self, installment_amount: int, currency: str) -> int:
        cap = installment_amount * self.max_percent_of_installment // 100
        return max(min(self.amount_minor.get(currency, 0), cap), 0)


class Policy(_Frozen):
    """One version of the credit policy."""

    version: str
    currencies: dict[str, CurrencyPolicy]
    plan_types: dict[PlanTypeName, PlanTypePolicy]
    quote_grade: str
    knock_outs: KnockOuts
    affordability: Affordability
    cutoffs: Cutoffs
    credit_limit_by_grade: dict[str, int]
    # the first limit is also at most this many months of income after expenses (None: grade only)
    credit_limit_income_multiple: int | None = Field(default=None, gt=0)
    credit_limit_rounding_minor: int = Field(default=1, gt=0)
    late_fees: LateFees = Field(default_factory=LateFees)
    approval_hold_minutes: int = Field(gt=0)
    max_reasons: int = Field(default=4, gt=0)

    def initial_credit_limit(self, grade: str, *, monthly_income: int, monthly_expenses: int) -> int:
        """The limit set at the first approval: the grade's, capped by affordability."""
        limit = self.credit_limit_by_grade.get(grade, 0)
        if self.credit_limit_income_multiple is not None:
            disposable = max(monthly_income - monthly_expenses, 0)
            limit = min(limit, disposable * self.credit_limit_income_multiple)
        return limit - limit % self.credit_limit_rounding_minor

    def plan(self, plan_type: PlanTypeName) -> PlanTypePolicy:
        return self.plan_types[plan_type]


def load_policy(path: str | Path) -> Policy:
    """Read and validate a policy file."""
    return Policy.model_validate(json.loads(Path(path).read_text()))
