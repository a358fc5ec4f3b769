"""The credit service's metrics: what each decision, scorer call, webhook attempt and review
queue reading counts; the outbox gauges and publication lag; late plans; ``/metrics``."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from bnpl_common.clock import FixedClock
from bnpl_credit import metrics
from bnpl_credit.events.model import Event
from bnpl_credit.monitoring import TimedPublisher, observe_outbox
from bnpl_credit.scoring.port import ScorerError
from bnpl_credit.testing import Api, FakeScorer
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

NAMES = {
    "bnpl_decisions_total",
    "bnpl_scorer_duration_seconds_count",
    "bnpl_scorer_failures_total",
    "bnpl_outbox_pending_events",
    "bnpl_outbox_oldest_pending_age_seconds",
    "bnpl_outbox_publish_lag_seconds_count",
    "bnpl_webhook_deliveries_total",
    "bnpl_webhook_delivery_failures_total",
    "bnpl_webhook_delivery_duration_seconds_count",
    "bnpl_plans_late",
    "bnpl_review_queue_open_cases",
    "bnpl_review_queue_oldest_age_seconds",
}


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_every_business_metric_is_exposed_under_its_name(client: TestClient) -> None:
    metrics.record_webhook_attempt("m-0", delivered=False, seconds=0.1)  # labelled series appear once used
    metrics.record_scoring(0.01, None)
    metrics.record_decision("APPROVED", grade="A", plan_type="PAY_IN_4")
    metrics.record_scoring(0.01, "RuntimeError")
    text = client.get("/metrics").text
    exposed = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if not line.startswith("#")}
    assert exposed >= NAMES, sorted(NAMES - exposed)


def test_decisions_are_counted_by_outcome_grade_and_plan(api: Api, scorer: FakeScorer) -> None:
    approved = sample("bnpl_decisions_total", outcome="APPROVED", grade="A", plan_type="PAY_IN_4")
    referred = sample("bnpl_decisions_total", outcome="REFERRED", grade="none", plan_type="PAY_IN_4")
    errors = sample("bnpl_scorer_failures_total", reason="error")
    assert api.apply().json()["status"] == "APPROVED"
    scorer.error = ScorerError("down")
    assert api.apply().json()["status"] == "REFERRED"
    assert sample("bnpl_decisions_total", outcome="APPROVED", grade="A", plan_type="PAY_IN_4") == approved + 1
    assert sample("bnpl_decisions_total", outcome="REFERRED", grade="none", plan_type="PAY_IN_4") == referred + 1
    assert sample("bnpl_scorer_failures_total", reason="error") == errors + 1


def test_a_scorer_timeout_is_counted_as_a_timeout(api: Api, scorer: FakeScorer) -> None:
    timeouts = sample("bnpl_scorer_failures_total", reason="timeout")
    slow = sample("bnpl_scorer_duration_seconds_count", result="timeout")
    scorer.delay = 1.0  # the test settings time out at 0.3 s
    assert api.apply().json()["status"] == "REFERRED"
    assert sample("bnpl_scorer_failures_total", reason="timeout") == timeouts + 1
    assert sample("bnpl_scorer_duration_seconds_count", result="timeout") == slow + 1


def test_a_failed_webhook_attempt_counts_for_its_merchant_only() -> None:
    failed_a = sample("bnpl_webhook_delivery_failures_total", merchant="shop-a")
    failed_b = sample("bnpl_webhook_delivery_failures_total", merchant="shop-b")
    metrics.record_webhook_attempt("shop-a", delivered=False, seconds=5.0)
    metrics.record_webhook_attempt("shop-a", delivered=False, seconds=5.0)  # a retry counts again
    metrics.record_webhook_attempt("shop-b", delivered=True, seconds=0.2)
    assert sample("bnpl_webhook_delivery_failures_total", merchant="shop-a") == failed_a + 2
    assert sample("bnpl_webhook_delivery_failures_total", merchant="shop-b") == failed_b
    assert sample("bnpl_webhook_deliveries_total", merchant="shop-b", result="delivered") >= 1


def test_review_queue_age_is_the_oldest_open_case() -> None:
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    metrics.record_review_queue([now - timedelta(minutes=5), now - timedelta(hours=2)], now=now)
    assert sample("bnpl_review_queue_open_cases") == 2
    assert sample("bnpl_review_queue_oldest_age_seconds") == 7200
    metrics.record_review_queue([], now=now)
    assert sample("bnpl_review_queue_open_cases") == 0 and sample("bnpl_review_queue_oldest_age_seconds") == 0


class _Outbox:
    def __init__(self, events: list[Event]) -> None:
        self.events = events

    async def pending_events(self, *, limit: int) -> list[Event]:
        return self.events[:limit]

    async def mark_published(self, event_ids: Any, *, published_at: Any) -> None:
        return None


def _event(clock: FixedClock, age: timedelta) -> Any:
    class E:
        occurred_at = clock.now() - age

    return E()


def test_outbox_gauges_measure_what_waits_and_for_how_long(clock: FixedClock) -> None:
    asyncio.run(
        observe_outbox(_Outbox([_event(clock, timedelta(seconds=90)), _event(clock, timedelta(seconds=3))]), clock)
    )
    assert sample("bnpl_outbox_pending_events") == 2
    assert sample("bnpl_outbox_oldest_pending_age_seconds") == 90
    asyncio.run(observe_outbox(_Outbox([]), clock))
    assert sample("bnpl_outbox_pending_events") == 0 and sample("bnpl_outbox_oldest_pending_age_seconds") == 0


def test_publication_lag_is_recorded_for_accepted_events_only(clock: FixedClock) -> None:
    class Half:
        async def publish(self, events: list[dict[str, Any]]) -> list[str]:
            return [events[0]["id"]]

    before = sample("bnpl_outbox_publish_lag_seconds_count")
    lag_sum = sample("bnpl_outbox_publish_lag_seconds_sum")
    at = (clock.now() - timedelta(seconds=4)).isoformat().replace("+00:00", "Z")
    events = [{"id": "e1", "occurredAt": at}, {"id": "e2", "occurredAt": at}]
    assert asyncio.run(TimedPublisher(Half(), clock).publish(events)) == ["e1"]
    assert sample("bnpl_outbox_publish_lag_seconds_count") == before + 1
    assert sample("bnpl_outbox_publish_lag_seconds_sum") == lag_sum + 4
