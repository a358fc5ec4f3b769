"""SageMaker-compatible inference server: ``GET /ping``, ``POST /invocations``.

Request bodies hold personal data: they are never logged.
"""

from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from bnpl_model.payload import PayloadError, parse_instances
from bnpl_model.scorer import InvalidInput, Scorer

log = logging.getLogger("bnpl_model.server")

MAX_BODY_BYTES = 6 * 1024 * 1024  # SageMaker real-time payload limit


def _error(status: int, type_: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"type": type_, "message": message}}, status_code=status)


def create_app(artifact_dir: str | Path | None = None) -> FastAPI:
    artifact = Path(artifact_dir or os.environ.get("MODEL_ARTIFACT_DIR", ""))

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.scorer = Scorer.from_path(artifact)
        log.info("model loaded: %s", app.state.scorer.model_version)
        yield
        app.state.scorer = None

    app = FastAPI(title="bnpl-model", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.scorer = None

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
        try:
            instances = parse_instances(body, request.headers.get("content-type"), scorer.feature_names)
            predictions = scorer.score(instances)
        except PayloadError as exc:
            return _error(exc.status_code, exc.error_type, exc.message)
        except InvalidInput as exc:
            return _error(400, "InvalidInput", str(exc))
        return JSONResponse({"predictions": predictions})

    return app
