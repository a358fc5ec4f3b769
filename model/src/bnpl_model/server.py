"""SageMaker-compatible inference server: ``GET /ping``, ``POST /invocations``.

Request bodies hold personal data: they are never logged. Logs are JSON lines with the request
and trace ids, as the services' (``bnpl_common.logging``); scoring gets a span and metrics.
"""

from __future__ import annotations

import logging
import os
import time
from contextlib import asynccontextmanager
from pathlib import Path

from bnpl_common.logging import RequestContextMiddleware, configure_logging
from bnpl_common.metrics import Counter, Histogram
from bnpl_common.observability import install_observability
from bnpl_common.telemetry import span
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from bnpl_model.payload import PayloadError, parse_instances
from bnpl_model.scorer import InvalidInput, Scorer

log = logging.getLogger("bnpl_model.server")

MAX_BODY_BYTES = 6 * 1024 * 1024  # SageMaker real-time payload limit
SERVICE_NAME = "model"

SCORED = Counter(
    "bnpl_model_instances_scored", "Instances scored by the model server.", emf_name="ModelInstancesScored"
)
SCORING = Histogram(
    "bnpl_model_scoring_duration_seconds",
    "Time the model server takes to score one request (parsing included).",
    emf_name="ModelScoringDuration",
)


def _error(status: int, type_: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"type": type_, "message": message}}, status_code=status)


def create_app(artifact_dir: str | Path | None = None, *, configure_logs: bool = True) -> FastAPI:
    artifact = Path(artifact_dir or os.environ.get("MODEL_ARTIFACT_DIR", ""))

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if configure_logs:
            configure_logging(SERVICE_NAME, os.environ.get("LOG_LEVEL", "INFO"))
        app.state.scorer = Scorer.from_path(artifact)
        log.info("model loaded: %s", app.state.scorer.model_version)
        yield
        app.state.scorer = None

    app = FastAPI(title="bnpl-model", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.scorer = None
    app.add_middleware(RequestContextMiddleware)
    install_observability(app, SERVICE_NAME)

    @app.get("/ping")
    async def ping() -> Response:
        scorer = app.state.scorer
        if scorer is None:
            return _error(503, "NotReady", "model not loaded")
        return JSONResponse({"status": "ok", "model_version": scorer.model_version})

    @app.get("/livez")
    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/invocations")
    async def invocations(request: Request) -> Response:
        scorer: Scorer | None = app.state.scorer
        if scorer is None:
            return _error(503, "NotReady", "model not loaded")
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return _error(413, "PayloadTooLarge", "body exceeds 6 MB")
        started = time.perf_counter()
        try:
            with span("model.score") as current:
                instances = parse_instances(body, request.headers.get("content-type"), scorer.feature_names)
                current.set_attribute("model.instances", len(instances))
                predictions = scorer.score(instances)
            SCORED.inc(len(predictions))
            SCORING.observe(time.perf_counter() - started)
        except PayloadError as exc:
            return _error(exc.status_code, exc.error_type, exc.message)
        except InvalidInput as exc:
            return _error(400, "InvalidInput", str(exc))
        return JSONResponse({"predictions": predictions})

    return app
