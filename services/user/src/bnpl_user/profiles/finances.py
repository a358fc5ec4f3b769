"""Declared finances: versioned, with a history of what changed, and a limit on how often.

Income, expenses, assets, debt, employment and housing are what the shopper says; nobody checks
them. Changing them until an application is approved is the attack this module bounds: every
change moves ``finance_version`` (each decision records the version it used, and the credit
service sends an application made soon after a decline, on materially changed finances, to a
person) and at most ``edits`` changes are allowed per rolling ``period`` (then 429 naming the
field). The values before and after stay in the profile's history in the user store; logs get
the field names only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from bnpl_common.money import Money

from bnpl_user.errors import TooManyRequests
from bnpl_user.profiles.model import FINANCE_FIELDS, FinanceChange, Profile, ProfileDetails


@dataclass(frozen=True, slots=True)
class FinancePolicy:
    edits: int = 3
    period: timedelta = timedelta(days=30)


def _json_name(field: str) -> str:
    head, *rest = field.split("_")
    return head + "".join(part.capitalize() for part in rest)


def field_json(details: ProfileDetails, name: str) -> Any:
    """One field as the profile JSON writes it (a change's before and after)."""
    value = getattr(details, name)
    if isinstance(value, Money):
        return {"amount": value.amount, "currency": value.currency}
    if isinstance(value, Enum):
        return value.value
    return value


def changed_finances(before: ProfileDetails, after: ProfileDetails) -> tuple[str, ...]:
    return tuple(name for name in FINANCE_FIELDS if getattr(before, name) != getattr(after, name))


def with_finance_change(current: Profile, updated: Profile, *, now: datetime, policy: FinancePolicy) -> Profile:
    """``updated`` with the finance version moved and the change recorded, if its declared
    finances differ from ``current``'s; :class:`TooManyRequests` past the limit."""
    fields = changed_finances(current.details, updated.details)
    if not fields:
        return updated
    recent = sorted(change.at for change in current.finance_history if change.at > now - policy.period)
    if len(recent) >= policy.edits:
        free_at = recent[len(recent) - policy.edits] + policy.period
        field = _json_name(fields[0])
        raise TooManyRequests(
            max(1, math.ceil((free_at - now).total_seconds())),
            f"{field}: declared finances may change at most {policy.edits} times in "
            f"{policy.period.days} days; try again later",
            field=field,
        )
    version = current.finance_version + 1
    change = FinanceChange(
        version=version,
        at=now,
        changes=tuple(
            (_json_name(name), field_json(current.details, name), field_json(updated.details, name)) for name in fields
        ),
    )
    return replace(updated, finance_version=version, finance_history=(*current.finance_history, change))
