"""What every FastAPI service app gets: health routes, request context, error rendering, and
the ``python -m`` entry point that serves it."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from bnpl_common.errors import install_error_handlers
from bnpl_common.logging import RequestContextMiddleware

ReadinessCheck = Callable[[], Awaitable[bool]]

# The largest request body a service reads (FastAPI ``max_body_size``; larger: 413). The
# biggest real body, an application with its profile snapshot, is a few KiB.
MAX_BODY_BYTES = 64 * 1024


def install_common(app: FastAPI, *, ready: ReadinessCheck | None = None) -> None:
    """Add ``/livez`` and ``/readyz``, the request-id middleware and the error handlers."""
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware)

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
