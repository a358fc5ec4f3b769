"""Declared-finance shopping: an application made soon after a decline, on declared finances
that changed materially since, goes to a person (``REFERRED``), not to an automatic approval.

Income, expenses, assets and debt are the shopper's word. Declined at 1,200 a month, the
shopper could edit the profile to 4,000 and be approved seconds later. The user service
versions the declared finances and limits how often they change; here, the newest decline of
the person (any of its accounts) within ``window`` is compared with the profile of this
application: a changed employment or housing, or an amount that moved by at least
``threshold_percent`` (or from nothing to something), is material. The decision is then
``REFERRED`` with reason ``FINANCES_CHANGED_AFTER_DECLINE`` (a review case is opened for every
REFERRED); the score is still recorded for the reviewer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from bnpl_credit.applications.ports import ApplicationStore
from bnpl_credit.applications.schemas import ProfileSnapshot
from bnpl_credit.decision.engine import Decision, DecisionStatus, Reason

FINANCES_CHANGED_AFTER_DECLINE = Reason(
    "FINANCES_CHANGED_AFTER_DECLINE",
    "The finances in your profile changed soon after a declined application; our team will review this application.",
)
_AMOUNTS = ("monthlyIncome", "monthlyExpenses", "assets", "debt")
_CATEGORIES = ("employment", "housing", "employmentYears")


@dataclass(frozen=True, slots=True)
class FinanceReviewPolicy:
    window: timedelta = timedelta(days=30)
    threshold_percent: int = 10


def _amount(profile: Mapping[str, Any], name: str) -> int | None:
    money = profile.get(name)
    if isinstance(money, Mapping) and isinstance(money.get("amount"), int):
        return int(money["amount"])
    return None


def material_change(before: Mapping[str, Any], after: Mapping[str, Any], *, threshold_percent: int) -> bool:
    """Did the declared finances move materially between two profile snapshots (JSON)?"""
    if before.get("financeVersion") is not None and before.get("financeVersion") == after.get("financeVersion"):
        return False
    if any(before.get(name) != after.get(name) for name in _CATEGORIES):
        return True
    for name in _AMOUNTS:
        old, new = _amount(before, name), _amount(after, name)
        if old is None or new is None:
            continue
        if abs(new - old) * 100 >= threshold_percent * max(old, 1) and new != old:
            return True
    return False


async def changed_since_decline(
    store: ApplicationStore,
    members: Iterable[str],
    profile: ProfileSnapshot,
    *,
    now: datetime,
    policy: FinanceReviewPolicy,
) -> bool:
    """Whether the person's newest decline within the window saw materially other finances."""
    if policy.window <= timedelta(0):
        return False
    since = now - policy.window
    declines = [
        decline for member in members if (decline := await store.newest_decline(member, since=since)) is not None
    ]
    if not declines:
        return False
    newest = max(declines, key=lambda app: app.created_at)
    record = await store.get_decision_record(newest.customer_id, newest.id)
    if record is None:
        return False
    current = profile.model_dump(by_alias=True, mode="json")
    return material_change(record.profile, current, threshold_percent=policy.threshold_percent)


def referred_for_review(decision: Decision) -> Decision:
    """The decision as a referral to a person, whatever the model and policy said."""
    if decision.status is DecisionStatus.DECLINED:
        return decision  # a decline stands: review is for what would otherwise be approved or referred
    return replace(
        decision,
        status=DecisionStatus.REFERRED,
        reasons=(FINANCES_CHANGED_AFTER_DECLINE,),
        schedule=None,
        expires_at=None,
        new_credit_limit=None,
    )
