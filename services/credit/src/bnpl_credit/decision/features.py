"""Platform fields -> the model's inputs (the ``credit_data`` columns of ``bnpl_model``).

| model input | value | from |
|---|---|---|
| ``Seniority`` | int, years | ``profile.employmentYears`` |
| ``Home`` | ``rent`` / ``owner`` / ``parents`` / ``other`` | ``profile.housing`` RENT / OWNER / PARENTS / OTHER |
| ``Time`` | int, months | plan term: PAY_IN_4 -> 2, MONTHLY_n -> n (policy ``model_term_months``) |
| ``Age`` | int, whole years | ``profile.dateOfBirth`` at decision time |
| ``Records`` | ``yes`` / ``no`` | ``yes`` if any installment of the customer's own plans here is or was LATE |
| ``Job`` | ``fixed``/``partime``/``freelance``/``others`` | ``profile.employment`` FIXED/PART_TIME/FREELANCE/OTHER |
| ``Expenses`` | float, model units | ``profile.monthlyExpenses`` |
| ``Income`` | float, model units | ``profile.monthlyIncome`` |
| ``Assets`` | float, model units | ``profile.assets`` |
| ``Debt`` | float, model units | ``profile.debt`` + outstanding balance of the customer's open plans here |
| ``Amount`` | float, model units | amount financed: the order total less what is paid at confirmation |
| ``Price`` | float, model units | the order total (the price of the purchase) |

Model units = minor units / the policy's per-currency ``model_unit_minor`` (EUR: 600 cents,
the source data being in thousands of pesetas). Nothing else is sent: never marital status,
names, contact details or the address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bnpl_common.dates import age_on

from bnpl_credit.scoring.port import FeatureRow

FEATURE_MAPPING_VERSION = "credit_data-map-2"  # 2: Amount is what is financed, Price the order total

HOME = {"RENT": "rent", "OWNER": "owner", "PARENTS": "parents", "OTHER": "other"}
JOB = {"FIXED": "fixed", "PART_TIME": "partime", "FREELANCE": "freelance", "OTHER": "others"}
FEATURE_NAMES = (
    "Seniority",
    "Home",
    "Time",
    "Age",
    "Records",
    "Job",
    "Expenses",
    "Income",
    "Assets",
    "Debt",
    "Amount",
    "Price",
)


@dataclass(frozen=True, slots=True)
class FeatureInputs:
    """What the mapping needs, already validated (money in minor units of one currency)."""

    employment_years: int
    housing: str
    employment: str
    date_of_birth: date
    monthly_income: int
    monthly_expenses: int
    assets: int
    debt: int
    order_total: int
    amount_financed: int  # the order total less what is paid at confirmation
    term_months: int
    has_late_installments: bool
    open_plans_outstanding: int
    model_unit_minor: int


def build_features(inputs: FeatureInputs, *, today: date) -> FeatureRow:
    """The model's input row for one application."""
    unit = inputs.model_unit_minor

    def units(minor: int) -> float:
        return round(minor / unit, 4)

    return {
        "Seniority": inputs.employment_years,
        "Home": HOME[inputs.housing],
        "Time": inputs.term_months,
        "Age": age_on(inputs.date_of_birth, today),
        "Records": "yes" if inputs.has_late_installments else "no",
        "Job": JOB[inputs.employment],
        "Expenses": units(inputs.monthly_expenses),
        "Income": units(inputs.monthly_income),
        "Assets": units(inputs.assets),
        "Debt": units(inputs.debt + inputs.open_plans_outstanding),
        "Amount": units(inputs.amount_financed),
        "Price": units(inputs.order_total),
    }
