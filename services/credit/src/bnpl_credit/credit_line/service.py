"""The customer's credit line: limit (set at the first approval), exposure, what is left.

Exposure = approvals still held (not expired, not confirmed) + what is owed on active plans.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bnpl_credit.applications.repository import ApplicationRepository
from bnpl_credit.timefmt import iso


async def credit_line(repo: ApplicationRepository, customer_id: str, *, now: datetime) -> dict[str, Any]:
    history = await repo.history(customer_id, now_iso=iso(now), today=now.date())
    line = history.credit_line
    if line is None:
        return {"creditLimit": None, "exposure": None, "availableCredit": None}
    exposure = history.exposure
    return {
        "creditLimit": {"amount": line.credit_limit, "currency": line.currency},
        "exposure": {"amount": exposure, "currency": line.currency},
        "availableCredit": {"amount": max(line.credit_limit - exposure, 0), "currency": line.currency},
    }
