"""The yardstick of the benchmark ladder: a bare FastAPI hello world, served by uvicorn exactly
as the services are (same uvicorn, same event loop and HTTP parser choice, no access log). Its
``POST /`` is a webhook receiver that accepts anything (``bench/webhook_connections.py``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI

if TYPE_CHECKING:
    from bnpl_common.testing import ServiceProcess

ROOT = Path(__file__).resolve().parent.parent


def create_app() -> FastAPI:
    app = FastAPI()

    @app.get("/")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    @app.post("/")
    async def received() -> dict[str, bool]:
        return {"received": True}

    return app


def serve(port: int, log_path: Path, *, tls: tuple[Path, Path] | None = None) -> ServiceProcess:
    """The hello world started on ``port`` (with ``tls``, a certificate and key: https for the
    host name ``localhost``), once it answers."""
    from bnpl_common.testing import ServiceProcess  # the benchmarks', not the served app's

    scheme = "https" if tls else "http"
    return ServiceProcess(
        name=f"hello-{scheme}",
        args=[
            sys.executable,
            "-m",
            "uvicorn",
            "bench.hello:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
            *(["--ssl-certfile", str(tls[0]), "--ssl-keyfile", str(tls[1])] if tls else []),
        ],
        health_url=f"{scheme}://localhost:{port}/" if tls else f"http://127.0.0.1:{port}/",
        env={"PYTHONPATH": str(ROOT)},
        log_path=log_path,
    ).start()
