"""Metrics: Prometheus ``/metrics`` locally, CloudWatch embedded metric format (EMF) in AWS.

Every metric is declared once per process at import time (module level) with :class:`Counter`,
:class:`Histogram` or :class:`Gauge`; each update goes to the Prometheus registry and, when EMF
is on (``METRICS_EMF``, default on with ``BNPL_ENV=aws``), also becomes one EMF log line.

``install_metrics(app)`` adds the per-route request metrics (route *template*, never the raw
path: ``/v1/applications/{application_id}``) and, outside AWS, ``GET /metrics``. With
``BNPL_ENV=aws`` the route is not mounted at all: the numbers leave through the logs, so no
scrape path exists behind a load balancer. Values are per process; with
``PROMETHEUS_MULTIPROC_DIR`` set (several workers), ``/metrics`` aggregates every worker's files.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from typing import Any, Literal

import prometheus_client
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from bnpl_common.emf import EmfEmitter
from bnpl_common.telemetry import name_server_span

log = logging.getLogger("bnpl.metrics")

NAMESPACE = "BNPL"
CONTENT_TYPE = prometheus_client.CONTENT_TYPE_LATEST
# Seconds: from a fast store read to the scorer timeout and beyond.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)

_state: dict[str, Any] = {"emf": None, "service": "unknown"}
CollectHook = Callable[[], Awaitable[None]]


def _truthy(value: str | None) -> bool | None:
    if value is None or not value.strip():
        return None
    return value.strip().lower() in ("1", "true", "yes", "on")


def configure_metrics(service: str, env: Mapping[str, str] | None = None) -> EmfEmitter | None:
    """Name this process's service (a dimension of every EMF line) and turn EMF on or off."""
    env = os.environ if env is None else env
    _state["service"] = service
    emf_on = _truthy(env.get("METRICS_EMF"))
    if emf_on is None:
        emf_on = env.get("BNPL_ENV", "local").strip().lower() == "aws"
    emitter = (
        EmfEmitter(namespace=env.get("METRICS_NAMESPACE", NAMESPACE), base_dimensions={"Service": service})
        if emf_on
        else None
    )
    _state["emf"] = emitter
    return emitter


def emf_emitter() -> EmfEmitter | None:
    return _state["emf"]  # type: ignore[no-any-return]


def _emf(name: str | None, value: float, unit: str, labels: Mapping[str, str], sets: Sequence[Sequence[str]]) -> None:
    emitter: EmfEmitter | None = _state["emf"]
    if emitter is None or name is None:
        return
    dims = {_dimension(k): v for k, v in labels.items()}
    emitter.emit({name: (value, unit)}, dims, dimension_sets=[["Service", *(_dimension(k) for k in s)] for s in sets])


def _dimension(label: str) -> str:
    """``plan_type`` -> ``PlanType``: CloudWatch dimensions are conventionally CamelCase."""
    return "".join(part.capitalize() for part in label.split("_"))


class _Metric:
    def __init__(
        self, name: str, labels: Sequence[str], emf_name: str | None, emf_sets: Sequence[Sequence[str]] | None
    ) -> None:
        self.name = name
        self.labels = tuple(labels)
        self.emf_name = emf_name
        # Each set is a list of label names CloudWatch aggregates by (always with Service).
        self.emf_sets: list[list[str]] = [list(s) for s in emf_sets] if emf_sets is not None else [list(self.labels)]

    def _check(self, labels: Mapping[str, str]) -> None:
        if set(labels) != set(self.labels):
            raise ValueError(f"{self.name} takes labels {sorted(self.labels)}, got {sorted(labels)}")


class Counter(_Metric):
    """A count that only goes up (Prometheus ``<name>_total``, EMF unit Count)."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labels: Sequence[str] = (),
        *,
        emf_name: str | None = None,
        emf_sets: Sequence[Sequence[str]] | None = None,
    ) -> None:
        super().__init__(name, labels, emf_name, emf_sets)
        self.prom = prometheus_client.Counter(name, documentation, self.labels)

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        self._check(labels)
        (self.prom.labels(**labels) if labels else self.prom).inc(amount)
        _emf(self.emf_name, amount, "Count", labels, self.emf_sets)


class Histogram(_Metric):
    """Durations in seconds (Prometheus buckets, EMF unit Seconds: CloudWatch keeps percentiles)."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labels: Sequence[str] = (),
        *,
        buckets: Sequence[float] = LATENCY_BUCKETS,
        emf_name: str | None = None,
        emf_sets: Sequence[Sequence[str]] | None = None,
    ) -> None:
        super().__init__(name, labels, emf_name, emf_sets)
        self.prom = prometheus_client.Histogram(name, documentation, self.labels, buckets=tuple(buckets))

    def observe(self, seconds: float, **labels: str) -> None:
        self._check(labels)
        (self.prom.labels(**labels) if labels else self.prom).observe(seconds)
        _emf(self.emf_name, seconds, "Seconds", labels, self.emf_sets)


class Gauge(_Metric):
    """A value that goes up and down, set by whoever measures it (a background loop)."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labels: Sequence[str] = (),
        *,
        unit: Literal["Count", "Seconds", "None"] = "None",
        emf_name: str | None = None,
        emf_sets: Sequence[Sequence[str]] | None = None,
    ) -> None:
        super().__init__(name, labels, emf_name, emf_sets)
        self.unit = unit
        # several workers: the largest value of the live processes (a lag, an age, a queue length)
        self.prom = prometheus_client.Gauge(name, documentation, self.labels, multiprocess_mode="livemax")

    def set(self, value: float, **labels: str) -> None:
        self._check(labels)
        (self.prom.labels(**labels) if labels else self.prom).set(value)
        _emf(self.emf_name, value, self.unit, labels, self.emf_sets)


def add_collect_hook(app: Any, hook: CollectHook) -> None:
    """``hook()`` runs before each ``/metrics`` answer of ``app`` (to refresh gauges measured on
    demand, from the lifespan's store); a failing hook leaves the gauges as they were."""
    hooks: list[CollectHook] | None = getattr(app.state, "metrics_hooks", None)
    if hooks is None:
        hooks = []
        app.state.metrics_hooks = hooks
    hooks.append(hook)


def render() -> bytes:
    """The Prometheus text exposition of this process (or of every worker, in multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest()


HTTP_REQUESTS = Counter(
    "bnpl_http_requests",
    "HTTP requests answered, by route template, method and status code.",
    ("method", "route", "status"),
)
HTTP_DURATION = Histogram(
    "bnpl_http_request_duration_seconds",
    "Time from the first byte in to the last byte out, by route template and method.",
    ("method", "route"),
)
UNMATCHED = "unmatched"
_SKIPPED = frozenset({"/livez", "/readyz", "/ping", "/metrics"})

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]


class HttpMetricsMiddleware:
    """Pure ASGI middleware: count and time every request by the route that served it."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("path") in _SKIPPED:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                # routed by now; the server span ends with the body, so it is named here
                name_server_span(str(scope.get("method", "GET")), route_template(scope))
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = route_template(scope)
            method = str(scope.get("method", "GET"))
            # Prometheus only: request counts, errors and latency come from the load balancer in AWS.
            HTTP_REQUESTS.prom.labels(method=method, route=route, status=str(status["code"])).inc()
            HTTP_DURATION.prom.labels(method=method, route=route).observe(time.perf_counter() - started)


def route_template(scope: Scope) -> str:
    """The matched route's path template, or ``unmatched`` (raw paths would be unbounded).

    A route of a router included with a prefix keeps its own short path in ``scope["route"]``
    (FastAPI >= 0.16x includes routers lazily); the template with the prefix is then the one of
    FastAPI's effective route context, when present."""
    effective = (
        scope.get("fastapi", {}).get("effective_route_context") if isinstance(scope.get("fastapi"), dict) else None
    )
    path = getattr(effective, "path_format", None)
    if isinstance(path, str) and path:
        return path
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    if isinstance(path, str) and path:
        return path
    mount = scope.get("root_path")
    return f"{mount}/*" if isinstance(mount, str) and mount else UNMATCHED


def metrics_endpoint_enabled(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return env.get("BNPL_ENV", "local").strip().lower() != "aws"


def install_metrics(app: Any, *, env: Mapping[str, str] | None = None) -> None:
    """Request metrics for every route, and ``GET /metrics`` outside AWS."""
    from starlette.requests import Request
    from starlette.responses import Response

    app.add_middleware(HttpMetricsMiddleware)
    if not metrics_endpoint_enabled(env):
        return

    async def metrics(request: Request) -> Response:
        for hook in getattr(request.app.state, "metrics_hooks", []):
            try:
                await hook()
            except Exception as exc:  # a store that is down must not hide the other metrics
                log.warning("metrics hook failed", extra={"error_class": type(exc).__name__})
        return Response(render(), media_type=CONTENT_TYPE)

    app.add_route("/metrics", metrics, methods=["GET"], include_in_schema=False)
