"""The one call each app factory makes for traces and metrics (``bnpl_common.telemetry``,
``bnpl_common.metrics``)."""

from __future__ import annotations

from typing import Any

from bnpl_common.metrics import configure_metrics, install_metrics
from bnpl_common.telemetry import configure_tracing, instrument_app


def install_observability(app: Any, service: str, *, public_edge: bool = False) -> None:
    """Server spans, request metrics and ``/metrics`` for ``app``; the tracer provider and the
    EMF switch of the process are set up on the first call. ``public_edge``: the app faces the
    internet (the gateway), so a caller's ``traceparent`` is ignored unless
    ``TRACE_INCOMING_CONTEXT=true``. Call it in ``create_app`` after ``install_common`` (the
    server span then wraps the access log line, which carries its trace id)."""
    configure_tracing(service)
    configure_metrics(service)
    install_metrics(app)
    instrument_app(app, trust_incoming=False if public_edge else None)
