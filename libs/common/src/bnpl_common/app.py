"""What every FastAPI service app gets: health routes, request context, error rendering, and
the ``python -m`` entry point that serves it."""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from bnpl_common.errors import install_error_handlers
from bnpl_common.logging import RequestContextMiddleware

ReadinessCheck = Callable[[], Awaitable[bool]]

# The largest request body a service reads (FastAPI ``max_body_size``; larger: 413). The
# biggest real body, an application with its profile snapshot, is a few KiB.
MAX_BODY_BYTES = 64 * 1024


# The cyclic garbage collector, tuned in server processes (``GC_TUNING=off`` keeps CPython's
# defaults). Measured under the decision benchmark with CPython's defaults (young threshold
# 700): the credit service ran a young collection every other request, and full collections,
# which walk every object the process built at start (modules, schemas, the model), stopped it
# for 110-160 ms in the middle of the load (the gateway for 90-130 ms): the tail of the latency.
# Objects alive once the app has started live as long as the process, so they are moved out of
# the collector's sight (``gc.freeze``), and the young generation is collected a tenth as
# often; under the same load no full collection ran. Reference counting still frees every
# object as soon as it is no longer used; only cycles wait for a collection.
GC_YOUNG_THRESHOLD = 7_000


# Set by :func:`serve` (inherited by uvicorn's worker processes): the tuning is for server
# processes, not for apps that tests start and stop by the hundred in one interpreter.
_SERVING = "BNPL_SERVING"


def tune_gc() -> None:
    """Collect what start-up left, freeze the survivors, collect the young generation less often."""
    if os.environ.get(_SERVING) != "1" or os.environ.get("GC_TUNING", "on").strip().lower() == "off":
        return
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)


def _tune_gc_after_startup(app: FastAPI) -> None:
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        async with inner(app_) as state:
            tune_gc()
            yield state

    app.router.lifespan_context = lifespan


def install_common(app: FastAPI, *, ready: ReadinessCheck | None = None) -> None:
    """Add ``/livez`` and ``/readyz``, the request-id middleware and the error handlers; tune the
    garbage collector once the app has started (:func:`tune_gc`)."""
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware)
    _tune_gc_after_startup(app)

    @app.get("/livez", include_in_schema=False)
    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        ok = True if ready is None else await ready()
        return JSONResponse({"status": "ok" if ok else "not ready"}, status_code=200 if ok else 503)


def serve(app_factory: str, *, host: str, port: int) -> None:
    """Serve ``"package.main:create_app"`` with uvicorn's factory mode (the app reads its own
    settings). Logging is the app's (JSON, set up in its lifespan): uvicorn configures none and
    writes no access log of its own; ``X-Forwarded-*`` headers are not trusted.

    The server itself is a deployment setting, read from uvicorn's own variables:
    ``UVICORN_LOOP`` (``auto``: uvloop, installed with this package; or ``asyncio``),
    ``UVICORN_HTTP`` (``auto``: httptools; or ``h11``) and ``WEB_CONCURRENCY`` (worker
    processes, 1 by default; see the README's "Performance" for what more of them changes).
    """
    import uvicorn

    from bnpl_common.http import SERVER_KEEP_ALIVE_SECONDS

    os.environ[_SERVING] = "1"

    uvicorn.run(
        app_factory,
        factory=True,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        loop=os.environ.get("UVICORN_LOOP", "auto"),
        http=os.environ.get("UVICORN_HTTP", "auto"),
        workers=int(os.environ.get("WEB_CONCURRENCY", "1")),
        timeout_keep_alive=SERVER_KEEP_ALIVE_SECONDS,  # longer than our clients keep a connection
    )
