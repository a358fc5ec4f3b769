"""The reason catalogue a reviewer declines with: the policy's own codes, plus the ones only a
person can give. A decline names at least one; codes outside the catalogue are refused."""

from __future__ import annotations

from types import MappingProxyType

REVIEW_REASONS = MappingProxyType(
    {
        "AFFORDABILITY": "The payments of this plan are more than you can afford from your income after expenses.",
        "CREDIT_LIMIT": "This purchase is more than the credit available to you.",
        "HIGH_RISK": "Based on the information you gave us, we cannot offer credit for this purchase now.",
        "KO_AGE": "You must be at least 18 years old to use pay later.",
        "KO_LATE_PAYMENTS": "A payment on one of your plans with us is or was late.",
        "INCOME_NOT_SUPPORTED": "The income you told us could not be supported by the information we have.",
        "INSUFFICIENT_INFORMATION": "We did not have enough information to offer you credit.",
        "INCONSISTENT_INFORMATION": "The information you gave us was inconsistent.",
    }
)
