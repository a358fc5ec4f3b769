"""The credit service's business metrics (``bnpl_common.metrics``: Prometheus ``/metrics``
locally, CloudWatch EMF in AWS). Names and meanings are listed in the service README.

- decisions by outcome, risk grade and plan type; the referral rate is
  ``REFERRED / all`` of ``bnpl_decisions_total`` (a rate, so it is derived, not stored);
- scorer latency (every call, by result) and failures (``timeout`` past
  ``SCORER_TIMEOUT_SECONDS``, ``error`` for anything else: refused, 5xx, nonsense);
- the outbox: events not yet published, the age of the oldest of them (the relay's lag) and
  each event's time from its change to its publication;
- webhook deliveries per merchant. A *failed delivery* is one attempt to POST an event to a
  merchant's endpoint that did not get a 2xx answer within the delivery timeout (refused,
  timed out, redirected or any non-2xx status); every attempt counts, retries included, so one
  event retried five times against a dead endpoint counts five;
- plans late: active plans with at least one installment marked late and still unpaid;
- the review queue's age: seconds since the oldest case still open (not yet decided by staff)
  was opened, 0 when the queue is empty; with the number of open cases.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bnpl_common.metrics import Counter, Gauge, Histogram

NO_GRADE = "none"  # a decision without a score (scorer failed, or a knock-out before scoring)

DECISIONS = Counter(
    "bnpl_decisions",
    "Credit decisions taken (stored), by outcome, risk grade and plan type.",
    ("outcome", "grade", "plan_type"),
    emf_name="Decisions",
    emf_sets=[[], ["outcome"], ["outcome", "grade", "plan_type"]],
)
SCORER_DURATION = Histogram(
    "bnpl_scorer_duration_seconds",
    "Time of each scorer call as the credit service waits for it, by result (ok, timeout, error).",
    ("result",),
    emf_name="ScorerDuration",
    emf_sets=[[]],
)
SCORER_FAILURES = Counter(
    "bnpl_scorer_failures",
    "Scorer calls without a usable score, by reason (timeout, error); each one is a referral.",
    ("reason",),
    emf_name="ScorerFailures",
    emf_sets=[[], ["reason"]],
)
OUTBOX_PENDING = Gauge(
    "bnpl_outbox_pending_events",
    "Outbox events not yet published (counted up to 1000).",
    unit="Count",
    emf_name="OutboxPendingEvents",
)
OUTBOX_OLDEST_AGE = Gauge(
    "bnpl_outbox_oldest_pending_age_seconds",
    "Age of the oldest outbox event not yet published (0 when none): the relay's lag.",
    unit="Seconds",
    emf_name="OutboxOldestPendingAge",
)
OUTBOX_PUBLISH_LAG = Histogram(
    "bnpl_outbox_publish_lag_seconds",
    "Time from the change that raised an event to its publication.",
    buckets=(0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0),
    emf_name="OutboxPublishLag",
)
WEBHOOK_DELIVERIES = Counter(
    "bnpl_webhook_deliveries",
    "Webhook delivery attempts by merchant and result (delivered, failed).",
    ("merchant", "result"),
    emf_name="WebhookDeliveries",
    emf_sets=[["result"]],
)
WEBHOOK_FAILURES = Counter(
    "bnpl_webhook_delivery_failures",
    "Webhook delivery attempts without a 2xx answer in time, by merchant (retries count).",
    ("merchant",),
    emf_name="WebhookDeliveryFailures",
    emf_sets=[[], ["merchant"]],
)
WEBHOOK_DURATION = Histogram(
    "bnpl_webhook_delivery_duration_seconds",
    "Time of each webhook delivery attempt.",
    emf_name="WebhookDeliveryDuration",
    emf_sets=[[]],
)
PLANS_LATE = Gauge(
    "bnpl_plans_late",
    "Active plans with an installment marked late and still unpaid.",
    unit="Count",
    emf_name="PlansLate",
)
REVIEW_QUEUE_OPEN = Gauge(
    "bnpl_review_queue_open_cases", "Review cases open (not yet decided).", unit="Count", emf_name="ReviewQueueOpen"
)
REVIEW_QUEUE_AGE = Gauge(
    "bnpl_review_queue_oldest_age_seconds",
    "Seconds since the oldest open review case was opened (0 when none).",
    unit="Seconds",
    emf_name="ReviewQueueOldestAge",
)


def record_decision(outcome: str, *, grade: str | None, plan_type: str) -> None:
    DECISIONS.inc(outcome=outcome, grade=grade or NO_GRADE, plan_type=plan_type)


def record_scoring(seconds: float, failure: str | None) -> None:
    """One scorer call: ``failure`` is None, ``"TimeoutError"`` or the failure's class name."""
    result = "ok" if failure is None else "timeout" if failure == "TimeoutError" else "error"
    SCORER_DURATION.observe(seconds, result=result)
    if failure is not None:
        SCORER_FAILURES.inc(reason=result)


def record_webhook_attempt(merchant_id: str, *, delivered: bool, seconds: float) -> None:
    """For the webhook dispatcher: call once per delivery attempt (see the definition above)."""
    WEBHOOK_DELIVERIES.inc(merchant=merchant_id, result="delivered" if delivered else "failed")
    WEBHOOK_DURATION.observe(seconds)
    if not delivered:
        WEBHOOK_FAILURES.inc(merchant=merchant_id)


def record_review_queue(opened_at: Iterable[datetime], *, now: datetime) -> None:
    """For the review queue: the opening times of the cases still open, measured now."""
    times = list(opened_at)
    REVIEW_QUEUE_OPEN.set(len(times))
    REVIEW_QUEUE_AGE.set(max(0.0, (now - min(times)).total_seconds()) if times else 0.0)
