"""The yardstick of the benchmark ladder: a bare FastAPI hello world, served by uvicorn exactly
as the services are (same uvicorn, same event loop and HTTP parser choice, no access log). Its
``POST /`` is a webhook receiver that accepts anything (``bench/webhook_connections.py``)."""

from __future__ import annotations

from fastapi import FastAPI


def create_app() -> FastAPI:
    app = FastAPI()

    @app.get("/")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    @app.post("/")
    async def received() -> dict[str, bool]:
        return {"received": True}

    return app
