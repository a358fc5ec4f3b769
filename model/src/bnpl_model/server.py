"""SageMaker-compatible inference server: ``GET /ping``, ``POST /invocations``.

Request bodies hold personal data: they are never logged.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from bnpl_model.scorer import InvalidInput, Scorer

log = logging.getLogger("bnpl_model.server")

MAX_BODY_BYTES = 6 * 1024 * 1024  # SageMaker real-time payload limit


def _error(status: int, type_: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"type": type_, "message": message}}, status_code=status)


def _parse_csv(text: str, feature_names: list[str]) -> list[dict[str, Any]]:
    instances = []
    for lineno, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or (all(not c.strip() for c in row) and len(row) <= 1):
            continue  # blank line
        if len(row) != len(feature_names):
            raise InvalidInput(
                f"CSV row {lineno} has {len(row)} columns, expected {len(feature_names)} ({','.join(feature_names)})"
            )
        instances.append({n: (c if c.strip() else None) for n, c in zip(feature_names, row, strict=True)})
    if not instances:
        raise InvalidInput("CSV body has no rows")
    return instances


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
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype not in ("application/json", "text/csv"):
            return _error(415, "UnsupportedMediaType", "use application/json or text/csv")
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return _error(413, "PayloadTooLarge", "body exceeds 6 MB")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return _error(400, "MalformedRequest", "body is not UTF-8")
        try:
            if ctype == "application/json":
                try:
                    payload = json.loads(text)
                except json.JSONDecodeError as exc:
                    return _error(400, "MalformedJSON", f"invalid JSON: {exc.msg} at {exc.pos}")
                if not isinstance(payload, dict) or not isinstance(payload.get("instances"), list):
                    return _error(400, "InvalidShape", 'body must be {"instances": [{...}, ...]}')
                instances = payload["instances"]
            else:
                instances = _parse_csv(text, scorer.feature_names)
            predictions = scorer.score(instances)
        except InvalidInput as exc:
            return _error(400, "InvalidInput", str(exc))
        return JSONResponse({"predictions": predictions})

    return app
