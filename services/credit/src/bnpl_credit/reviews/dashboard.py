"""The console's dashboard: the queue by status and age, today's cases by origin and today's
review outcomes. Read from the cases themselves (each status is one indexed query), bounded:
past ``SCAN_LIMIT`` cases of one status the counts say "at least". Today's credit decisions by
outcome, platform-wide, and the referral rate come from the day's decision tally (an index of
decisions by time in SQLite; one item per decision under eight day shards in DynamoDB)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median

from bnpl_common.clock import Clock

from bnpl_credit.reviews.model import LIVE_STATUSES, CaseStatus
from bnpl_credit.reviews.ports import ReviewStore

SCAN_LIMIT = 1000
# the queue's age chart: live cases waiting less than each bound (seconds), then the rest
AGE_BUCKETS = (("UNDER_1_HOUR", 3600), ("1_TO_4_HOURS", 4 * 3600), ("4_TO_24_HOURS", 86400), ("OVER_24_HOURS", None))


def _age_buckets(ages: list[int]) -> dict[str, int]:
    counts = dict.fromkeys((name for name, _ in AGE_BUCKETS), 0)
    for age in ages:
        name = next(name for name, bound in AGE_BUCKETS if bound is None or age < bound)
        counts[name] += 1
    return counts


@dataclass(frozen=True, slots=True)
class Dashboard:
    generated_at: datetime
    by_status: dict[str, int]
    capped: list[str]  # statuses with more cases than were counted
    oldest_live_age_seconds: int | None
    median_live_age_seconds: int | None
    opened_today: dict[str, int] = field(default_factory=dict)  # by origin
    closed_today: dict[str, int] = field(default_factory=dict)  # by outcome
    decisions_today: dict[str, int] = field(default_factory=dict)  # credit decisions by outcome
    live_by_age: dict[str, int] = field(default_factory=dict)  # waiting cases by age bucket

    @property
    def referral_rate(self) -> float | None:
        total = sum(self.decisions_today.values())
        return round(self.decisions_today.get("REFERRED", 0) / total, 4) if total else None


async def dashboard(store: ReviewStore, clock: Clock, *, ttl: timedelta) -> Dashboard:
    now = clock.now()
    start_of_day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    by_status: dict[str, int] = {}
    capped: list[str] = []
    ages: list[int] = []
    opened: dict[str, int] = {}
    closed: dict[str, int] = {}
    decisions = await store.decision_counts(start_of_day, start_of_day + timedelta(days=1))
    for status in CaseStatus:
        cases = await store.list_cases(status, limit=SCAN_LIMIT + 1, after=None)
        if len(cases) > SCAN_LIMIT:
            capped.append(str(status))
            cases = cases[:SCAN_LIMIT]
        for case in cases:
            shown = case.status_at(now, ttl)
            by_status[str(shown)] = by_status.get(str(shown), 0) + 1
            if shown in LIVE_STATUSES:
                ages.append(int((now - case.opened_at).total_seconds()))
            if case.opened_at >= start_of_day:
                opened[str(case.origin)] = opened.get(str(case.origin), 0) + 1
            if case.closed_at is not None and case.closed_at >= start_of_day:
                closed[str(shown)] = closed.get(str(shown), 0) + 1
    return Dashboard(
        generated_at=now,
        by_status={str(s): by_status.get(str(s), 0) for s in CaseStatus},
        capped=capped,
        oldest_live_age_seconds=max(ages) if ages else None,
        median_live_age_seconds=int(median(ages)) if ages else None,
        opened_today=opened,
        closed_today=closed,
        live_by_age=_age_buckets(ages),
        decisions_today={outcome: decisions.get(outcome, 0) for outcome in ("APPROVED", "DECLINED", "REFERRED")},
    )
