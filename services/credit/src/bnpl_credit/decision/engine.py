"""The decision (steps 3-4 of "The decision" in the service README): score, then apply the policy.

:func:`evaluate` is pure (policy + context + score -> outcome) so every rule is unit
tested without I/O; :class:`DecisionEngine` adds the scorer call with its hard timeout.
A scorer that fails, times out or answers nonsense gives REFERRED, never APPROVED.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from bnpl_common.money import Money
from bnpl_common.telemetry import mark_error, span

from bnpl_credit.decision.affordability import assess_offer
from bnpl_credit.decision.policy import PlanTypeName, Policy
from bnpl_credit.decision.schedule import Schedule, build_schedule
from bnpl_credit.errors import UnsupportedCurrency
from bnpl_credit.markets.catalog import Market, MarketCatalog
from bnpl_credit.markets.interest import Installment
from bnpl_credit.metrics import record_scoring
from bnpl_credit.scoring.port import FeatureRow, Scorer, ScoreResult

log = logging.getLogger("bnpl.credit.decision")


class DecisionStatus(StrEnum):
    APPROVED = "APPROVED"
    DECLINED = "DECLINED"
    REFERRED = "REFERRED"


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    description: str


SCORER_UNAVAILABLE = Reason(
    "SCORER_UNAVAILABLE", "We could not complete an automatic decision; your application will be reviewed."
)
MANUAL_REVIEW = Reason("MANUAL_REVIEW", "Your application needs a closer look; it will be reviewed by our team.")


@dataclass(frozen=True, slots=True)
class DecisionContext:
    """What the policy needs besides the score, in minor units of the order's currency."""

    amount: int
    currency: str
    plan_type: PlanTypeName
    age: int
    late_installments: int
    monthly_income: int
    monthly_expenses: int
    credit_limit: int | None  # the customer's limit, None before the first approval
    exposure: int  # held approvals + outstanding plans
    today: date
    now: datetime
    market: Market  # the market of the order's currency: its products, rates and disclosures
    declared_debt: int = 0  # the profile's declared debt balance (serviced at the market's assumed rate)
    own_plans: tuple[Installment, ...] = ()  # what the customer's active plans here still ask, by due date


def lending_market(policy: Policy, markets: MarketCatalog, currency: str, *, field: str) -> Market:
    """The market lending in ``currency``; a currency without one, or that the model cannot read
    (no ``model_unit_minor`` in the policy), is refused with the field named."""
    market = markets.for_currency(currency)
    if market is None or currency not in policy.currencies:
        supported = sorted(m.currency for m in markets.markets if m.currency in policy.currencies)
        raise UnsupportedCurrency(f"{currency} is not supported; use one of {', '.join(supported)}", field=field)
    return market


@dataclass(frozen=True, slots=True)
class Decision:
    status: DecisionStatus
    reasons: tuple[Reason, ...]
    score: ScoreResult | None
    scorer_failure: str | None = None  # the failure class when there is no score
    schedule: Schedule | None = None  # an approval's offer
    expires_at: datetime | None = None  # end of an approval's hold
    new_credit_limit: int | None = None  # set when this is the customer's first approval
    shadow: ScoreResult | None = None  # a challenger's score of the same inputs: stored, never used


@dataclass(frozen=True, slots=True)
class ScoreOutcome:
    """The scorer's answer, or the class of its failure (never the data)."""

    score: ScoreResult | None
    failure: str | None = None
    shadow: ScoreResult | None = None  # the challenger's score, when shadow scoring is on


def _fmt(amount: int, currency: str) -> str:
    return Money(amount=amount, currency=currency).format()


def hold_amount(amount: int, schedule: Schedule | None) -> int:
    """What an approval reserves on the credit line: the plan's total of payments."""
    return schedule.total_of_payments if schedule is not None else amount


def evaluate(
    policy: Policy, ctx: DecisionContext, score: ScoreResult | None, scorer_failure: str | None = None
) -> Decision:
    """Apply ``policy`` to one application; ``score`` is None when the scorer failed."""
    policy_reasons: list[Reason] = []
    if ctx.age < policy.knock_outs.min_age:
        policy_reasons.append(
            Reason("KO_AGE", f"You must be at least {policy.knock_outs.min_age} years old to use pay later.")
        )
    if ctx.late_installments > policy.knock_outs.max_late_installments:
        policy_reasons.append(Reason("KO_LATE_PAYMENTS", "A payment on one of your plans with us is or was late."))

    if score is None:
        if policy_reasons:  # a knock-out needs no model: decline stands
            return Decision(DecisionStatus.DECLINED, tuple(policy_reasons[: policy.max_reasons]), None, scorer_failure)
        return Decision(DecisionStatus.REFERRED, (SCORER_UNAVAILABLE,), None, scorer_failure)

    schedule: Schedule | None = None
    # Risk declines are explained by the model's principal reasons (what moved the score);
    # the generic texts below are used only when the model gave none.
    risk_reasons: list[Reason] = []
    try:
        schedule = build_schedule(ctx.market, ctx.plan_type, amount=ctx.amount, grade=score.grade, start=ctx.today)
    except KeyError:
        risk_reasons.append(
            Reason("RISK_GRADE", "Based on the information you gave us, we cannot offer this plan for this purchase.")
        )

    if schedule is not None:
        # income - expenses - declared debt's service - own plans' next 30 days, stressed (markets.affordability)
        _, unaffordable = assess_offer(
            policy,
            ctx.market,
            ctx.plan_type,
            schedule,
            today=ctx.today,
            monthly_income=ctx.monthly_income,
            monthly_expenses=ctx.monthly_expenses,
            declared_debt=ctx.declared_debt,
            own_plans=ctx.own_plans,
        )
        if unaffordable is not None:
            policy_reasons.append(Reason("AFFORDABILITY", unaffordable))

    if score.pd > policy.cutoffs.refer_max_pd:
        risk_reasons.append(
            Reason("HIGH_RISK", "Based on the information you gave us, we cannot offer credit for this purchase now.")
        )

    limit = (
        ctx.credit_limit
        if ctx.credit_limit is not None
        else policy.initial_credit_limit(
            score.grade, monthly_income=ctx.monthly_income, monthly_expenses=ctx.monthly_expenses
        )
    )
    available = max(limit - ctx.exposure, 0)
    # the hold is what the plan would make the customer owe (interest included)
    # When the risk grade itself gives no limit, the risk reasons already explain the decline.
    if hold_amount(ctx.amount, schedule) > available and (limit > 0 or not risk_reasons):
        policy_reasons.append(
            Reason(
                "CREDIT_LIMIT",
                f"This purchase is more than the credit available to you ({_fmt(available, ctx.currency)}).",
            )
        )

    model_reasons = [Reason(r.code, r.description) for r in score.reasons]
    if policy_reasons or risk_reasons:
        explained = model_reasons or risk_reasons[:1]
        reasons = (policy_reasons + explained)[: policy.max_reasons]
        return Decision(DecisionStatus.DECLINED, tuple(reasons), score)
    if score.pd > policy.cutoffs.approve_max_pd:
        reasons = [MANUAL_REVIEW, *model_reasons][: policy.max_reasons]
        return Decision(DecisionStatus.REFERRED, tuple(reasons), score)
    return Decision(
        DecisionStatus.APPROVED,
        tuple(model_reasons[: policy.max_reasons]),
        score,
        schedule=schedule,
        expires_at=ctx.now + timedelta(minutes=policy.approval_hold_minutes),
        new_credit_limit=limit if ctx.credit_limit is None else None,
    )


class DecisionEngine:
    """Scores with a hard timeout, then evaluates the policy.

    With a ``shadow`` scorer (a challenger model, ``SHADOW_MODEL_URL``), the challenger scores the
    same inputs at the same time as the champion; its result is only recorded (the decision
    record and the ``decision.made`` event, so the lake can compare them). It never changes the
    outcome, and its failure or slowness never delays or changes the decision: it gets the
    champion's time and no more.
    """

    def __init__(
        self,
        *,
        policy: Policy,
        markets: MarketCatalog,
        scorer: Scorer,
        timeout_seconds: float,
        shadow: Scorer | None = None,
    ) -> None:
        self.policy = policy
        self.markets = markets
        self._scorer = scorer
        self._timeout = timeout_seconds
        self._shadow = shadow

    async def _champion(self, features: FeatureRow) -> ScoreOutcome:
        """The champion's score, or the failure class (never the data); timed, counted and traced."""
        started = time.perf_counter()
        with span("score", {"scorer.timeout_seconds": self._timeout}) as current:
            outcome = await self._score(features)
            if outcome.failure is not None:
                mark_error(current, outcome.failure)
        record_scoring(time.perf_counter() - started, outcome.failure)
        return outcome

    async def _score(self, features: FeatureRow) -> ScoreOutcome:
        try:
            async with asyncio.timeout(self._timeout):
                return ScoreOutcome(await self._scorer.score(features))
        except TimeoutError:
            failure = "TimeoutError"
        except Exception as exc:  # any scorer failure is a referral, never a 500
            failure = type(exc).__name__
        log.warning("scorer unavailable", extra={"failure_class": failure})
        return ScoreOutcome(None, failure)

    async def _challenger(self, features: FeatureRow) -> ScoreResult | None:
        assert self._shadow is not None
        try:
            async with asyncio.timeout(self._timeout):
                return await self._shadow.score(features)
        except Exception as exc:  # TimeoutError included: a shadow failure is only logged
            log.info("shadow scorer failed", extra={"failure_class": type(exc).__name__})
            return None

    async def score(self, features: FeatureRow) -> ScoreOutcome:
        """The score, or the failure class (never the data); with a shadow, its score beside."""
        if self._shadow is None:
            return await self._champion(features)
        outcome, shadow = await asyncio.gather(self._champion(features), self._challenger(features))
        return dataclasses.replace(outcome, shadow=shadow)

    def evaluate(self, ctx: DecisionContext, outcome: ScoreOutcome) -> Decision:
        """The policy's decision on a score; the shadow score is carried along, never looked at."""
        decision = evaluate(self.policy, ctx, outcome.score, outcome.failure)
        return dataclasses.replace(decision, shadow=outcome.shadow) if outcome.shadow else decision

    async def decide(self, ctx: DecisionContext, features: FeatureRow) -> Decision:
        return self.evaluate(ctx, await self.score(features))
