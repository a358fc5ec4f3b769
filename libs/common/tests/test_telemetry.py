"""Trace settings, the JSON-lines span file and its tree printer, X-Ray ids, query strings kept
out of spans, and the log formatter's trace ids."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import httpx
import pytest
from bnpl_common import traces
from bnpl_common.logging import JsonFormatter
from bnpl_common.telemetry import (
    JsonLinesSpanExporter,
    TelemetryConfig,
    TelemetryConfigError,
    XRayIdGenerator,
    _client_request_hook,
    _server_request_hook,
)
from opentelemetry.instrumentation.httpx import RequestInfo
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult


def test_defaults_write_files_and_sample_everything() -> None:
    config = TelemetryConfig.from_env({})
    assert config.exporter == "file" and config.sample_ratio == 1.0
    assert config.traces_dir == Path(".data/traces") and config.trust_incoming is None


@pytest.mark.parametrize(
    ("env", "field"),
    [
        ({"OTEL_TRACES_EXPORTER": "jaeger"}, "OTEL_TRACES_EXPORTER"),
        ({"OTEL_TRACES_SAMPLER_ARG": "half"}, "OTEL_TRACES_SAMPLER_ARG"),
        ({"OTEL_TRACES_SAMPLER_ARG": "1.5"}, "OTEL_TRACES_SAMPLER_ARG"),
        ({"OTEL_ID_GENERATOR": "uuid"}, "OTEL_ID_GENERATOR"),
        ({"TRACE_INCOMING_CONTEXT": "maybe"}, "TRACE_INCOMING_CONTEXT"),
    ],
)
def test_a_bad_setting_is_refused_by_name(env: dict[str, str], field: str) -> None:
    with pytest.raises(TelemetryConfigError, match=field):
        TelemetryConfig.from_env(env)


def test_settings_are_read() -> None:
    config = TelemetryConfig.from_env(
        {
            "OTEL_TRACES_EXPORTER": "OTLP",
            "OTEL_TRACES_SAMPLER_ARG": "0.05",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318/",
            "OTEL_ID_GENERATOR": "xray",
            "TRACE_INCOMING_CONTEXT": "false",
            "TRACES_DIR": "/tmp/t",
        }
    )
    assert config == TelemetryConfig(
        exporter="otlp",
        sample_ratio=0.05,
        traces_dir=Path("/tmp/t"),
        otlp_endpoint="http://127.0.0.1:4318",
        xray_ids=True,
        trust_incoming=False,
    )


def test_xray_trace_ids_start_with_the_epoch_second() -> None:
    before = int(time.time())
    trace_id = XRayIdGenerator().generate_trace_id()
    assert before <= trace_id >> 96 <= int(time.time())
    assert trace_id & ((1 << 96) - 1) != 0


def _provider(exporter: JsonLinesSpanExporter, service: str) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def test_spans_land_in_one_file_per_service_and_print_as_a_tree(tmp_path: Path, capsys) -> None:
    gateway = _provider(JsonLinesSpanExporter(tmp_path, "gateway"), "gateway").get_tracer("t")
    credit = _provider(JsonLinesSpanExporter(tmp_path, "credit"), "credit").get_tracer("t")
    with gateway.start_as_current_span("POST /graphql") as root:
        with credit.start_as_current_span("score"), credit.start_as_current_span("POST /invocations"):
            pass
        with credit.start_as_current_span("storage.save_decision"):
            pass
    with gateway.start_as_current_span("another trace"):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["credit.jsonl", "gateway.jsonl"]
    trace_id = format(root.get_span_context().trace_id, "032x")
    spans = traces.trace_spans(tmp_path, trace_id)
    assert len(spans) == 4 and {s["trace_id"] for s in spans} == {trace_id}
    lines = traces.render_tree(spans)
    assert [line.split("  (")[0] for line in lines] == [
        "POST /graphql",
        "  score",
        "    POST /invocations",
        "  storage.save_decision",
    ]
    assert "(credit, internal)" in lines[1]

    assert traces.main(["--dir", str(tmp_path), "show", trace_id]) == 0
    assert "storage.save_decision" in capsys.readouterr().out
    assert traces.main(["--dir", str(tmp_path), "show", "0" * 32]) == 1
    assert traces.main(["--dir", str(tmp_path), "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == 2 and any(line.startswith(trace_id) and "credit,gateway" in line for line in listed)


def test_a_torn_line_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "x.jsonl").write_text('{"trace_id": "ab", "span_id": "1", "name": "a"}\n{"trace_id": "ab", "sp')
    assert [s["name"] for s in traces.read_spans(tmp_path)] == ["a"]


def test_an_unwritable_directory_drops_spans_without_failing_the_request(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    exporter = JsonLinesSpanExporter(blocker / "traces", "svc")  # a directory under a file: cannot exist
    tracer = _provider(exporter, "svc").get_tracer("t")
    with tracer.start_as_current_span("request"):
        pass  # no exception reaches the caller
    assert exporter.export([]) is SpanExportResult.FAILURE


class _Recorder:
    def __init__(self) -> None:
        self.attributes: dict[str, object] = {}
        self.name = ""

    def is_recording(self) -> bool:
        return True

    def set_attribute(self, key: str, value: object) -> None:
        self.attributes[key] = value

    def update_name(self, name: str) -> None:
        self.name = name


def test_query_strings_stay_out_of_spans() -> None:
    server = _Recorder()
    _server_request_hook(server, {"path": "/v1/applications", "query_string": b"nextToken=secret"})  # type: ignore[arg-type]
    assert server.attributes == {"http.target": "/v1/applications", "http.url": "/v1/applications"}
    client = _Recorder()
    url = httpx.URL("http://127.0.0.1:8002/v1/plans?client_secret=pi_123_secret_456")
    _client_request_hook(client, RequestInfo(b"GET", url, None, None, None))  # type: ignore[arg-type]
    assert client.name == "GET /v1/plans" and client.attributes == {"http.url": "http://127.0.0.1:8002/v1/plans"}
    raw = _Recorder()
    _client_request_hook(raw, RequestInfo(b"POST", (b"http", b"model", 8080, b"/invocations?x=1"), None, None, None))  # type: ignore[arg-type]
    assert raw.name == "POST /invocations" and raw.attributes == {"http.url": "http://model:8080/invocations"}


def test_log_lines_carry_the_trace_and_span_id(tmp_path: Path) -> None:
    tracer = _provider(JsonLinesSpanExporter(tmp_path, "svc"), "svc").get_tracer("t")
    formatter = JsonFormatter("svc")
    record = logging.LogRecord("bnpl.test", logging.INFO, __file__, 1, "hello", (), None)
    assert "trace_id" not in json.loads(formatter.format(record))
    with tracer.start_as_current_span("request") as current:
        entry = json.loads(formatter.format(record))
    ctx = current.get_span_context()
    assert entry["trace_id"] == format(ctx.trace_id, "032x") and entry["span_id"] == format(ctx.span_id, "016x")
