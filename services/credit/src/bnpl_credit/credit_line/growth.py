"""How the customer's own repayment record moves their credit limit (policy ``credit_line_growth``).

As the spending limits of the large BNPL providers do, the limit grows with plans repaid on time
and stops growing after lateness:

- the limit set at the first approval is the starting point;
- each plan repaid in full with no installment ever late adds ``percent_per_plan_repaid_on_time``
  of that starting limit, up to ``max_percent_of_initial`` of it;
- an installment marked late freezes the limit for ``freeze_days_after_late`` days from that
  day: plans completed after the first such lateness do not count until the freeze ends (the
  limit keeps what it had earned before it).

Pure: the record is read from the customer's own plans (:func:`record_of`), the rules from the
policy; :class:`LimitStanding` says what the limit is, why, and what would raise it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from bnpl_credit.credit_line.model import CustomerHistory
from bnpl_credit.decision.policy import Policy
from bnpl_credit.plans.ledger import Plan
from bnpl_credit.plans.model import PlanStatus


@dataclass(frozen=True, slots=True)
class GrowthRules:
    percent_per_plan_repaid_on_time: int
    max_percent_of_initial: int
    freeze_days_after_late: int
    rounding_minor: int = 1

    @classmethod
    def of(cls, policy: Policy) -> GrowthRules | None:
        g = policy.credit_line_growth
        if g is None:
            return None
        return cls(
            g.percent_per_plan_repaid_on_time,
            g.max_percent_of_initial,
            g.freeze_days_after_late,
            policy.credit_limit_rounding_minor,
        )


@dataclass(frozen=True, slots=True)
class RepaymentRecord:
    repaid_on_time: tuple[date, ...]  # the day each such plan was completed
    late_on: tuple[date, ...]  # the day each installment became late (grace included)


@dataclass(frozen=True, slots=True)
class LimitStanding:
    limit: int
    initial: int
    plans_counted: int
    frozen_until: date | None
    at_maximum: bool
    next_limit: int | None  # what one more plan repaid on time would make it (None: no growth now)


def record_of(plans: Iterable[Plan], *, today: date, grace_days_of: Callable[[Plan], int]) -> RepaymentRecord:
    """The customer's repayment record from their own plans."""
    on_time: list[date] = []
    late: list[date] = []
    for plan in plans:
        grace = grace_days_of(plan)
        marks = [
            inst.late_on or inst.late_after(grace) for inst in plan.installments if inst.was_ever_late(today, grace)
        ]
        late += marks
        if plan.status is PlanStatus.COMPLETED and not marks and plan.completed_on is not None:
            on_time.append(plan.completed_on)
    return RepaymentRecord(tuple(sorted(on_time)), tuple(sorted(late)))


def _round(amount: int, rounding: int) -> int:
    return amount - amount % rounding


def standing(initial: int, record: RepaymentRecord, rules: GrowthRules, *, today: date) -> LimitStanding:
    """The limit the record earns today."""
    freeze = timedelta(days=rules.freeze_days_after_late)
    recent = [d for d in record.late_on if d + freeze > today]
    frozen_until = max(recent) + freeze if recent else None
    counted = [d for d in record.repaid_on_time if not recent or d < min(recent)]
    cap = initial * rules.max_percent_of_initial // 100

    def limit_for(n: int) -> int:
        return _round(
            min(initial * (100 + rules.percent_per_plan_repaid_on_time * n) // 100, cap), rules.rounding_minor
        )

    limit = max(limit_for(len(counted)), initial)
    at_maximum = limit >= _round(cap, rules.rounding_minor)
    next_limit = None if frozen_until or at_maximum else limit_for(len(counted) + 1)
    return LimitStanding(limit, initial, len(counted), frozen_until, at_maximum, next_limit)


def explain(s: LimitStanding, rules: GrowthRules, fmt: Callable[[int], str]) -> tuple[list[str], str | None]:
    """Why the limit is what it is (sentences), and what would raise it (None: nothing now)."""
    why = [f"Your limit started at {fmt(s.initial)} when you were first approved."]
    if s.plans_counted:
        plans = "plan" if s.plans_counted == 1 else "plans"
        why.append(
            f"It grew by {rules.percent_per_plan_repaid_on_time}% of that for each of the {s.plans_counted}"
            f" {plans} you repaid on time."
        )
    if s.frozen_until:
        why.append(f"It cannot grow until {s.frozen_until.isoformat()} because a payment was late.")
        return why, f"Pay every installment on time: from {s.frozen_until.isoformat()} your limit can grow again."
    if s.at_maximum:
        why.append("It has reached the highest limit we offer you for now.")
        return why, None
    assert s.next_limit is not None
    return why, f"Repay a plan on time and your limit will grow to {fmt(s.next_limit)}."


def limit_standing(history: CustomerHistory, policy: Policy, *, today: date) -> LimitStanding | None:
    """Where the customer's limit stands today (None before the first approval)."""
    account = history.account
    if account is None:
        return None
    record = RepaymentRecord(history.repaid_on_time, history.late_on)
    rules = GrowthRules.of(policy)
    if rules is None:  # the policy keeps the first limit
        return LimitStanding(account.credit_limit, account.credit_limit, 0, None, True, None)
    return standing(account.credit_limit, record, rules, today=today)
