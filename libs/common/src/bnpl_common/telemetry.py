"""Traces: one OpenTelemetry setup for every process (services and the model server).

``configure_tracing(service)`` builds the process's tracer provider from the environment
(:class:`TelemetryConfig`), ``instrument_app(app)`` adds the FastAPI server spans and
``instrument_client(client)`` the httpx client spans, which also send W3C ``traceparent`` to
the next process. ``span(name)`` and ``@traced(name)`` add the spans of our own work (storage
calls, scoring, webhooks). With ``OTEL_TRACES_EXPORTER=none`` nothing is recorded and each of
these costs one context-variable read.

``traceparent`` is added by the httpx instrumentation below the client's auth flow, so it is
*not* covered by the SigV4 signature: the receiver verifies only the headers the signature names
(``SignedHeaders``), and a trace context decides nothing but how spans are parented.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, ParamSpec, TypeVar, cast

import httpx
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.sdk.trace.sampling import ParentBased, Sampler, TraceIdRatioBased
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

log = logging.getLogger("bnpl.telemetry")

Exporter = Literal["none", "console", "file", "otlp"]
EXPORTERS: tuple[Exporter, ...] = ("none", "console", "file", "otlp")
TRACER_NAME = "bnpl"
# Paths that never get a server span: probes and the metrics scrape (they would drown the traces).
EXCLUDED_PATHS = ("/livez", "/readyz", "/ping", "/metrics")

P = ParamSpec("P")
R = TypeVar("R")


class TelemetryConfigError(ValueError):
    """A telemetry setting with a value we do not know."""


@dataclass(frozen=True)
class TelemetryConfig:
    """The trace settings, from the environment (standard ``OTEL_*`` names where one exists).

    ``OTEL_TRACES_EXPORTER``: ``none``, ``console``, ``file`` (default: JSON lines under
    ``TRACES_DIR``) or ``otlp`` (OTLP/HTTP to ``OTEL_EXPORTER_OTLP_ENDPOINT``, the collector
    beside the task in AWS). ``OTEL_TRACES_SAMPLER_ARG``: the share of new traces recorded
    (0..1); a call that arrives with a trace context follows its parent's decision.
    ``OTEL_ID_GENERATOR=xray``: trace ids that start with the epoch second, as X-Ray wants.
    ``TRACE_INCOMING_CONTEXT``: whether a caller's ``traceparent`` is followed (off at the public
    edge, the gateway, so that the internet cannot choose trace ids or force sampling).
    """

    exporter: Exporter = "file"
    sample_ratio: float = 1.0
    traces_dir: Path = Path(".data/traces")
    otlp_endpoint: str = "http://127.0.0.1:4318"
    xray_ids: bool = False
    trust_incoming: bool | None = None  # None: the app's default (instrument_app's trust_incoming)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TelemetryConfig:
        env = os.environ if env is None else env
        exporter = env.get("OTEL_TRACES_EXPORTER", "file").strip().lower() or "file"
        if exporter not in EXPORTERS:
            raise TelemetryConfigError(f"OTEL_TRACES_EXPORTER must be one of {', '.join(EXPORTERS)}, not {exporter!r}")
        raw_ratio = env.get("OTEL_TRACES_SAMPLER_ARG", "1.0").strip() or "1.0"
        try:
            ratio = float(raw_ratio)
        except ValueError:
            raise TelemetryConfigError(f"OTEL_TRACES_SAMPLER_ARG must be a number in 0..1, not {raw_ratio!r}") from None
        if not 0.0 <= ratio <= 1.0:
            raise TelemetryConfigError(f"OTEL_TRACES_SAMPLER_ARG must be in 0..1, not {ratio}")
        generator = env.get("OTEL_ID_GENERATOR", "random").strip().lower()
        if generator not in ("random", "xray"):
            raise TelemetryConfigError(f"OTEL_ID_GENERATOR must be random or xray, not {generator!r}")
        incoming = env.get("TRACE_INCOMING_CONTEXT", "").strip().lower()
        if incoming and incoming not in ("true", "false"):
            raise TelemetryConfigError(f"TRACE_INCOMING_CONTEXT must be true or false, not {incoming!r}")
        endpoint = env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318").rstrip("/")
        return cls(
            exporter=exporter,
            sample_ratio=ratio,
            traces_dir=Path(env.get("TRACES_DIR", ".data/traces")),
            otlp_endpoint=endpoint,
            xray_ids=generator == "xray",
            trust_incoming=(incoming == "true") if incoming else None,
        )


class XRayIdGenerator(IdGenerator):
    """Trace ids whose first 8 hex digits are the epoch second (X-Ray's format), then 96 random bits."""

    def __init__(self) -> None:
        self._random = RandomIdGenerator()

    def generate_span_id(self) -> int:
        return self._random.generate_span_id()

    def generate_trace_id(self) -> int:
        import time

        return (int(time.time()) << 96) | (self._random.generate_trace_id() & ((1 << 96) - 1))


def span_to_dict(span: ReadableSpan) -> dict[str, Any]:
    """One finished span as the file exporter writes it (and ``bnpl_common.traces`` reads it)."""
    ctx = span.get_span_context()
    assert ctx is not None
    start = span.start_time or 0
    end = span.end_time or start
    return {
        "trace_id": format(ctx.trace_id, "032x"),
        "span_id": format(ctx.span_id, "016x"),
        "parent_span_id": format(span.parent.span_id, "016x") if span.parent else None,
        "name": span.name,
        "kind": span.kind.name,
        "service": span.resource.attributes.get("service.name"),
        "start_ns": start,
        "duration_ms": round((end - start) / 1e6, 3),
        "status": span.status.status_code.name,
        "attributes": dict(span.attributes or {}),
    }


class JsonLinesSpanExporter(SpanExporter):
    """Finished spans as JSON lines, one file per service under ``directory`` (appended, one
    write per batch). A directory that cannot be written (a read-only container) drops the
    spans with one warning instead of failing requests."""

    def __init__(self, directory: Path, service: str) -> None:
        self.path = directory / f"{service}.jsonl"
        self._lock = threading.Lock()
        self._broken = False
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self._fail(exc)

    def _fail(self, exc: OSError) -> None:
        if not self._broken:
            log.warning("trace file not writable: spans dropped", extra={"error_class": type(exc).__name__})
        self._broken = True

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._broken:
            return SpanExportResult.FAILURE
        text = "".join(json.dumps(span_to_dict(s), default=str, separators=(",", ":")) + "\n" for s in spans)
        try:
            with self._lock, self.path.open("a", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            self._fail(exc)
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


def _exporter(config: TelemetryConfig, service: str) -> SpanExporter | None:
    if config.exporter == "none":
        return None
    if config.exporter == "console":
        return ConsoleSpanExporter(
            formatter=lambda s: json.dumps(span_to_dict(s), default=str, separators=(",", ":")) + "\n"
        )
    if config.exporter == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=f"{config.otlp_endpoint}/v1/traces")
    return JsonLinesSpanExporter(config.traces_dir, service)


_state: dict[str, Any] = {}


def configure_tracing(service: str, config: TelemetryConfig | None = None) -> TracerProvider | None:
    """Build this process's tracer provider (once; later calls return the first). ``None`` when
    tracing is off: the API's no-op tracer is left in place and spans cost next to nothing."""
    if "provider" in _state:
        return cast(TracerProvider | None, _state["provider"])
    config = config or TelemetryConfig.from_env()
    _state["config"] = config
    exporter = _exporter(config, service)
    if exporter is None:
        _state["provider"] = None
        return None
    sampler: Sampler = ParentBased(TraceIdRatioBased(config.sample_ratio))
    provider = TracerProvider(
        resource=Resource.create({"service.name": service}),
        sampler=sampler,
        id_generator=XRayIdGenerator() if config.xray_ids else RandomIdGenerator(),
    )
    # Batches are exported from a background thread: a request never waits for the exporter.
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _state["provider"] = provider
    _state.pop("tracer", None)
    return provider


def shutdown_tracing() -> None:
    """Flush and stop the exporter (process exit)."""
    provider = _state.get("provider")
    if isinstance(provider, TracerProvider):
        provider.shutdown()


def tracing_config() -> TelemetryConfig | None:
    return cast(TelemetryConfig | None, _state.get("config"))


Scope = dict[str, Any]


class _DropIncomingContext:
    """Pure ASGI: removes ``traceparent``/``tracestate``/``baggage`` before the server span is
    started, so that a public caller starts a new trace of ours instead of joining its own."""

    _DROP = (b"traceparent", b"tracestate", b"baggage")

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and any(name in self._DROP for name, _ in scope.get("headers", [])):
            scope = dict(scope)
            scope["headers"] = [(n, v) for n, v in scope["headers"] if n not in self._DROP]
        await self.app(scope, receive, send)


def _span_details(scope: Scope) -> tuple[str, dict[str, str]]:
    """The server span's first name: the method. Once routed, :func:`name_server_span` names it
    ``METHOD /route/{template}`` (never the raw path: ids stay out of span names)."""
    return str(scope.get("method", "HTTP")), {}


def name_server_span(method: str, route: str) -> None:
    """Name the current server span after the route that served the request."""
    current = trace.get_current_span()
    if current.is_recording():
        current.update_name(f"{method} {route}")
        current.set_attribute("http.route", route)


def _server_request_hook(current: Span, scope: Scope) -> None:
    """The request's path without its query string (a query may carry a secret)."""
    if current.is_recording():
        path = str(scope.get("path", ""))
        current.set_attribute("http.target", path)
        current.set_attribute("http.url", path)


def _client_request_hook(current: Span, request: Any) -> None:
    """Client spans named ``METHOD /path``, with the URL without its query string."""
    if not current.is_recording():
        return
    url = request.url if isinstance(request.url, httpx.URL) else httpx.URL(_raw_url(request.url))
    url = url.copy_with(query=None, fragment=None)
    current.update_name(f"{request.method.decode()} {url.path}")
    current.set_attribute("http.url", str(url))


def _raw_url(raw: tuple[bytes, bytes, int | None, bytes]) -> str:
    scheme, host, port, target = raw
    return f"{scheme.decode()}://{host.decode()}{f':{port}' if port else ''}{target.decode()}"


def instrument_app(app: Any, *, trust_incoming: bool | None = None) -> None:
    """Server spans for a Starlette/FastAPI app (named by route template). Call after
    ``configure_tracing``; a no-op when tracing is off. ``trust_incoming=False`` ignores a
    caller's trace context (``TRACE_INCOMING_CONTEXT`` overrides it either way).

    The ASGI instrumentation wraps the app's whole middleware stack (FastAPI's own telemetry
    then stands aside: it yields to this middleware, so there is one server span per request).
    FastAPI's contrib instrumentor is not used: it refuses a stack that does not start with
    Starlette's error middleware, as the gateway's (fixed headers outside everything) does."""
    provider = _state.get("provider")
    if provider is None:
        return
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    config = tracing_config()
    if config is not None and config.trust_incoming is not None:
        trusted = config.trust_incoming
    else:
        trusted = True if trust_incoming is None else trust_incoming
    build = app.build_middleware_stack

    def build_instrumented() -> Any:
        instrumented = OpenTelemetryMiddleware(
            build(),
            excluded_urls=",".join(f"{p}$" for p in EXCLUDED_PATHS),
            default_span_details=_span_details,
            server_request_hook=_server_request_hook,
            tracer_provider=provider,
            exclude_spans=["receive", "send"],  # one span per request, not three
        )
        # outside the middleware that reads the context: a caller's traceparent never gets in
        return instrumented if trusted else _DropIncomingContext(instrumented)

    app.build_middleware_stack = build_instrumented


def instrument_client(client: Any) -> None:
    """httpx client spans and ``traceparent`` on every outgoing call of ``client``."""
    provider = _state.get("provider")
    if provider is None:
        return
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor.instrument_client(client, tracer_provider=provider, request_hook=_client_request_hook)


def tracing_on() -> bool:
    """Whether this process records traces (a tracer provider was configured)."""
    return _state.get("provider") is not None


def tracer() -> trace.Tracer:
    """The process's tracer (looked up once per provider: the lookup is not free)."""
    cached = _state.get("tracer")
    if cached is None:
        provider = _state.get("provider")
        cached = provider.get_tracer(TRACER_NAME) if provider is not None else trace.get_tracer(TRACER_NAME)
        _state["tracer"] = cached
    return cast(trace.Tracer, cached)


@contextmanager
def span(
    name: str, attributes: Mapping[str, str | int | float | bool] | None = None, *, kind: SpanKind = SpanKind.INTERNAL
) -> Iterator[Span]:
    """A child span of the current one, only inside a recorded trace (a request that was
    sampled); an exception marks it as an error and propagates. Attributes are names and counts,
    never personal data or secrets."""
    parent = trace.get_current_span()
    if not parent.is_recording():
        # outside a recorded trace (tracing off, not sampled, a background loop): no span at all
        yield parent
        return
    attrs = dict(attributes) if attributes else None
    with tracer().start_as_current_span(name, kind=kind, attributes=attrs) as current:
        yield current


def traced(
    name: str, attributes: Mapping[str, str | int | float | bool] | None = None
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator: the call (sync or async) runs in a span called ``name``."""

    def wrap(fn: Callable[P, R]) -> Callable[P, R]:
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def run_async(*args: P.args, **kwargs: P.kwargs) -> Any:
                with span(name, attributes):
                    return await fn(*args, **kwargs)

            return cast(Callable[P, R], run_async)

        @functools.wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            with span(name, attributes):
                return fn(*args, **kwargs)

        return run

    return wrap


def mark_error(current: Span, reason: str) -> None:
    """Mark a span as failed without an exception (a timeout turned into a referral, a 5xx)."""
    current.set_status(Status(StatusCode.ERROR, reason))


def current_ids() -> tuple[str, str] | None:
    """``(trace_id, span_id)`` in hex of the span in progress, if it is recorded or propagated."""
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return None
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")


T = TypeVar("T")


def trace_methods(obj: T, prefix: str, *, attributes: Mapping[str, str] | None = None) -> T:
    """Give every public coroutine method of ``obj`` (a storage adapter) a span
    ``<prefix>.<method>``, on this instance only (its class, type and ``isinstance`` unchanged).
    A no-op when tracing is off: the methods stay as they are, at no cost."""
    if _state.get("provider") is None:
        return obj
    attrs = dict(attributes or {})
    for name in dir(type(obj)):
        if name.startswith("_"):
            continue
        method = getattr(obj, name, None)
        if method is None or not inspect.iscoroutinefunction(method):
            continue
        setattr(obj, name, _spanned(method, f"{prefix}.{name}", attrs))
    return obj


def _spanned(method: Callable[..., Any], name: str, attributes: dict[str, str]) -> Callable[..., Any]:
    @functools.wraps(method)
    async def run(*args: Any, **kwargs: Any) -> Any:
        # only inside a recorded trace: background loops polling the store make no traces of their own
        if not trace.get_current_span().is_recording():
            return await method(*args, **kwargs)
        with tracer().start_as_current_span(name, kind=SpanKind.CLIENT, attributes=attributes):
            return await method(*args, **kwargs)

    return run
