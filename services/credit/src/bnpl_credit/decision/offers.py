"""Schedule -> the ``offer`` JSON the API shows (and stores inside an application)."""

from __future__ import annotations

from typing import Any

from bnpl_credit.decision.schedule import Schedule


def money(amount: int, currency: str) -> dict[str, Any]:
    """The API's money JSON: integer minor units and the currency."""
    return {"amount": amount, "currency": currency}


def offer_doc(schedule: Schedule, *, plan_type: str, currency: str) -> dict[str, Any]:
    return {
        "planType": plan_type,
        "amountFinanced": money(schedule.amount_financed, currency),
        "financeCharge": money(schedule.finance_charge, currency),
        "totalOfPayments": money(schedule.total_of_payments, currency),
        "apr": schedule.apr_basis_points / 100,
        "aprBasisPoints": schedule.apr_basis_points,
        "installments": [
            {"sequence": i.sequence, "dueDate": i.due_date.isoformat(), "amount": money(i.amount, currency)}
            for i in schedule.installments
        ],
    }
