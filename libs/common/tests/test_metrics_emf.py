"""The CloudWatch embedded metric format emitter, the metric wrappers that feed it, route
templates and the /metrics switch."""

from __future__ import annotations

import io
import json
import uuid

import pytest
from bnpl_common import metrics
from bnpl_common.emf import EmfEmitter, EmfError
from bnpl_common.metrics import Counter, Gauge, Histogram, configure_metrics, metrics_endpoint_enabled, route_template


def test_an_emf_line_follows_the_specification() -> None:
    out = io.StringIO()
    emitter = EmfEmitter(
        namespace="BNPL", base_dimensions={"Service": "credit"}, stream=out, clock=lambda: 1_700_000_000.5
    )
    emitter.emit(
        {"Decisions": (1, "Count")},
        {"Outcome": "REFERRED", "Grade": "none"},
        dimension_sets=[["Service"], ["Service", "Outcome"]],
    )
    (line,) = out.getvalue().splitlines()
    doc = json.loads(line)
    assert doc["_aws"] == {
        "Timestamp": 1_700_000_000_500,
        "CloudWatchMetrics": [
            {
                "Namespace": "BNPL",
                "Dimensions": [["Service"], ["Service", "Outcome"]],
                "Metrics": [{"Name": "Decisions", "Unit": "Count"}],
            }
        ],
    }
    assert doc["Service"] == "credit" and doc["Outcome"] == "REFERRED" and doc["Grade"] == "none"
    assert doc["Decisions"] == 1


def test_by_default_all_dimensions_form_one_set() -> None:
    emitter = EmfEmitter(namespace="BNPL", base_dimensions={"Service": "user"})
    doc = emitter.document({"OtpCodesCapped": (1, "Count")}, {"Cap": "customer"})
    assert doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Cap", "Service"]]


@pytest.mark.parametrize(
    ("metrics_", "dims", "sets", "message"),
    [
        ({}, {}, None, "at least one metric"),
        ({"bad name!": (1, "Count")}, {}, None, "not valid"),
        ({"X": (1, "Furlongs")}, {}, None, "unit"),
        ({"X": (1, "Count")}, {"X": "a"}, None, "both a metric and a dimension"),
        ({"X": (1, "Count")}, {"A": "a"}, [["A", "B"]], "without a value"),
        ({"X": (1, "Count")}, {f"D{i}": "v" for i in range(31)}, None, "at most 30"),
    ],
)
def test_what_cloudwatch_would_refuse_is_refused(metrics_, dims, sets, message) -> None:
    with pytest.raises(EmfError, match=message):
        EmfEmitter(namespace="BNPL").document(metrics_, dims, dimension_sets=sets)


def test_a_bad_namespace_is_refused() -> None:
    with pytest.raises(EmfError):
        EmfEmitter(namespace="no spaces allowed")


@pytest.fixture
def emf_out():
    emitter = configure_metrics("credit", env={"METRICS_EMF": "true"})
    assert emitter is not None
    emitter.stream = io.StringIO()
    yield emitter.stream
    configure_metrics("credit", env={"METRICS_EMF": "false"})


def _name() -> str:
    return f"bnpl_test_{uuid.uuid4().hex[:8]}"


def test_each_update_is_one_prometheus_sample_and_one_emf_line(emf_out: io.StringIO) -> None:
    counter = Counter(_name(), "doc", ("outcome", "plan_type"), emf_name="Decisions", emf_sets=[[], ["outcome"]])
    counter.inc(outcome="APPROVED", plan_type="PAY_IN_4")
    counter.inc(outcome="APPROVED", plan_type="PAY_IN_4")
    assert counter.prom.labels(outcome="APPROVED", plan_type="PAY_IN_4")._value.get() == 2
    docs = [json.loads(line) for line in emf_out.getvalue().splitlines()]
    assert len(docs) == 2
    assert docs[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Service"], ["Service", "Outcome"]]
    assert docs[0]["Outcome"] == "APPROVED" and docs[0]["PlanType"] == "PAY_IN_4" and docs[0]["Service"] == "credit"

    histogram = Histogram(_name(), "doc", emf_name="ScorerDuration")
    histogram.observe(0.25)
    gauge = Gauge(_name(), "doc", unit="Seconds", emf_name="OutboxOldestPendingAge")
    gauge.set(42)
    last = [json.loads(line) for line in emf_out.getvalue().splitlines()][-2:]
    assert (
        last[0]["ScorerDuration"] == 0.25 and last[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] == "Seconds"
    )
    assert last[1]["OutboxOldestPendingAge"] == 42


def test_prometheus_only_without_emf() -> None:
    configure_metrics("credit", env={"METRICS_EMF": "false"})
    assert metrics.emf_emitter() is None
    counter = Counter(_name(), "doc", emf_name="X")
    counter.inc()
    assert counter.prom._value.get() == 1


def test_emf_is_on_by_default_in_aws_only() -> None:
    try:
        assert configure_metrics("user", env={"BNPL_ENV": "aws"}) is not None
        assert configure_metrics("user", env={"BNPL_ENV": "local"}) is None
    finally:
        configure_metrics("user", env={})


def test_labels_must_be_the_declared_ones() -> None:
    counter = Counter(_name(), "doc", ("merchant",))
    with pytest.raises(ValueError, match="merchant"):
        counter.inc(shop="x")


def test_metrics_are_not_served_in_aws() -> None:
    assert metrics_endpoint_enabled({"BNPL_ENV": "local"}) and metrics_endpoint_enabled({})
    assert not metrics_endpoint_enabled({"BNPL_ENV": "aws"})


def test_route_template_never_the_raw_path() -> None:
    class Route:
        path = "/v1/applications/{application_id}"

    assert route_template({"route": Route(), "path": "/v1/applications/123"}) == "/v1/applications/{application_id}"
    assert route_template({"path": "/v1/applications/123"}) == metrics.UNMATCHED
