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
    approval_hold_minutes: int = Field(gt=0)
    max_reasons: int = Field(default=4, gt=0)

    def plan(self, plan_type: str) -> PlanTypePolicy:
        return self.plan_types[plan_type]  # type: ignore[index]


def load_policy(path: str | Path) -> Policy:
    """Read and validate a policy file."""
    return Policy.model_validate(json.loads(Path(path).read_text()))
