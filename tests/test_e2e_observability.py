"""Traces and metrics across the real processes: one decision is one connected trace through
the gateway, user, credit and model processes, with its trace id in each one's logs; the
decisions, a scorer timeout and the one-time codes are counted on each service's ``/metrics``."""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from scripts.devstack import Stack
from tests.conftest import Shopper
from tests.journey import APPLY, good_profile, order
from tests.test_e2e_journey import verified
from tests.test_e2e_resilience import _Blackhole, _with_model_url

pytestmark = pytest.mark.e2e

SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)$")


def apply(shopper: Shopper, **order_args: Any) -> httpx.Response:
    """The one place new tests apply for credit (inputs built by ``journey.order``)."""
    response = shopper.gql(APPLY, {"input": order(**order_args), "key": uuid.uuid4().hex})
    assert response.status_code == 200, response.text
    assert not response.json().get("errors"), response.json()
    return response


def metrics(stack: Stack, service: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """``/metrics`` of one process, parsed: ``{(name, labels): value}``."""
    response = httpx.get(f"{stack.url(service)}/metrics", timeout=5)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for line in response.text.splitlines():
        match = SAMPLE.match(line)
        if match is None or line.startswith("#"):
            continue
        labels = frozenset(re.findall(r'(\w+)="([^"]*)"', match["labels"] or ""))
        samples[(match["name"], labels)] = float(match["value"])
    return samples


def value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    """The sum of the samples called ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def log_lines(stack: Stack, service: str) -> list[dict[str, Any]]:
    lines = []
    for raw in stack.services[service].logs().splitlines():
        try:
            entry = json.loads(raw)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict):
            lines.append(entry)
    return lines


def wait_for_log(stack: Stack, service: str, *, timeout: float = 10.0, **fields: str) -> dict[str, Any]:
    """The first log line of ``service`` with these field values (a line may land just after the
    response: the access line is written once the answer is sent)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [e for e in log_lines(stack, service) if all(e.get(k) == v for k, v in fields.items())]
        if found or time.monotonic() > deadline:
            assert found, f"no log line of {service} with {fields}"
            return found[0]
        time.sleep(0.2)


def spans_of(trace_dir: Path, trace_id: str, *, services: int, timeout: float = 15.0) -> list[dict[str, Any]]:
    """The spans of one trace in the trace files, waiting for the processes' batches to land."""
    deadline = time.monotonic() + timeout
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        found = []
        for path in trace_dir.glob("*.jsonl"):
            for line in path.read_text().splitlines():
                span = json.loads(line)
                if span["trace_id"] == trace_id:
                    found.append(span)
        ids = {s["span_id"] for s in found}
        roots = [s for s in found if s["parent_span_id"] not in ids]
        if len({s["service"] for s in found}) >= services and len(roots) == 1:
            break  # every process's batch has landed: the tree is whole
        time.sleep(0.3)
    return found


def test_one_decision_is_one_connected_trace_across_the_processes(stack: Stack, new_shopper) -> None:
    shopper = new_shopper()
    verified(shopper, stack, good_profile())
    # a caller cannot choose the trace: the gateway (the public edge) ignores its traceparent
    forged = "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"
    response = httpx.post(
        f"{stack.url('gateway')}/graphql",
        json={"query": APPLY, "variables": {"input": order(), "key": uuid.uuid4().hex}},
        headers={"Authorization": shopper.token, "traceparent": forged},
        timeout=30,
    )
    assert response.status_code == 200 and not response.json().get("errors"), response.text
    request_id = response.headers["x-request-id"]

    # the gateway's access line for this request names its trace
    access = wait_for_log(stack, "gateway", request_id=request_id, message="request")
    trace_id = access["trace_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", trace_id) and trace_id != "ab" * 16

    spans = spans_of(stack.data_dir / "traces", trace_id, services=4)
    services = {s["service"] for s in spans}
    assert {"bnpl-gateway", "user", "credit", "model"} <= services, services
    # connected: one root (the gateway's server span), every other span's parent is in the trace
    ids = {s["span_id"] for s in spans}
    roots = [s for s in spans if s["parent_span_id"] not in ids]
    assert len(roots) == 1 and roots[0]["service"] == "bnpl-gateway" and roots[0]["kind"] == "SERVER", roots
    assert roots[0]["parent_span_id"] is None  # not the forged caller's span
    names = {(s["service"], s["name"]) for s in spans}
    assert ("credit", "POST /v1/applications") in names
    assert ("credit", "score") in names
    assert ("model", "POST /invocations") in names and ("model", "model.score") in names
    assert any(service == "credit" and name.startswith("storage.") for service, name in names)
    assert any(service == "user" and name.startswith("storage.") for service, name in names)
    # the model's server span hangs under the credit service's outgoing call, which is under scoring
    by_id = {s["span_id"]: s for s in spans}
    model_server = next(s for s in spans if s["service"] == "model" and s["kind"] == "SERVER")
    caller = by_id[model_server["parent_span_id"]]
    assert caller["service"] == "credit" and caller["kind"] == "CLIENT"
    assert by_id[caller["parent_span_id"]]["name"] == "score"

    # the same trace id in the logs of every process it went through
    for service in ("gateway", "user", "credit", "model"):
        wait_for_log(stack, service, trace_id=trace_id)
    # and no trace attributes carry a token, a code or a query string
    text = json.dumps(spans)
    assert shopper.token not in text and "Authorization" not in text


def test_decisions_scorer_timeouts_and_codes_are_counted(stack: Stack, new_shopper) -> None:
    shopper = new_shopper()
    before_user = metrics(stack, "user")
    verified(shopper, stack, good_profile())
    after_user = metrics(stack, "user")
    assert value(after_user, "bnpl_otp_codes_sent_total") == value(before_user, "bnpl_otp_codes_sent_total") + 1
    verified_before = value(before_user, "bnpl_otp_confirmations_total", outcome="verified")
    assert value(after_user, "bnpl_otp_confirmations_total", outcome="verified") == verified_before + 1
    assert value(after_user, "bnpl_http_requests_total", route="/v1/profile/phone-verification", status="202") >= 1

    before = metrics(stack, "credit")
    apply(shopper)
    apply(shopper, plan="MONTHLY_3")
    after = metrics(stack, "credit")
    approved = "bnpl_decisions_total"
    assert value(after, approved, outcome="APPROVED", plan_type="PAY_IN_4") == (
        value(before, approved, outcome="APPROVED", plan_type="PAY_IN_4") + 1
    )
    assert value(after, approved, outcome="APPROVED", plan_type="MONTHLY_3") == (
        value(before, approved, outcome="APPROVED", plan_type="MONTHLY_3") + 1
    )
    graded = [ls for (n, ls), v in after.items() if n == approved and ("outcome", "APPROVED") in ls and v > 0]
    assert all(dict(ls)["grade"] in ("A", "B", "C", "D", "E") for ls in graded)
    assert value(after, "bnpl_scorer_duration_seconds_count", result="ok") >= 2
    assert value(after, "bnpl_http_requests_total", route="/v1/applications", method="POST", status="201") >= 2
    # the route template, never the raw path
    assert not any("route" in dict(ls) and re.search(r"[0-9a-f]{8}-", dict(ls)["route"]) for _, ls in after)

    # a scorer that does not answer: a referral, counted as a timeout and a REFERRED decision
    original = stack.services["credit"].env["MODEL_URL"]
    hole = _Blackhole()
    try:
        _with_model_url(stack, f"http://127.0.0.1:{hole.port}")
        referred = apply(shopper).json()["data"]["applyForCredit"]
        assert referred["status"] == "REFERRED"
        slow = metrics(stack, "credit")
        assert value(slow, "bnpl_scorer_failures_total", reason="timeout") == 1
        assert value(slow, "bnpl_scorer_duration_seconds_count", result="timeout") == 1
        assert value(slow, approved, outcome="REFERRED", grade="none", plan_type="PAY_IN_4") == 1
        assert value(slow, "bnpl_outbox_pending_events") >= 0  # measured at the scrape
        assert ("bnpl_outbox_oldest_pending_age_seconds", frozenset()) in slow
    finally:
        hole.close()
        _with_model_url(stack, original)

    gateway = metrics(stack, "gateway")
    assert value(gateway, "bnpl_http_requests_total", route="/graphql", method="POST", status="200") >= 3
    model = metrics(stack, "model")
    assert value(model, "bnpl_model_instances_scored_total") >= 2
