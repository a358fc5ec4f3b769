"""The yardstick of the benchmark ladder: a bare FastAPI hello world, served by uvicorn exactly
as the services are (same uvicorn, same event loop and HTTP parser choice, no access log)."""

from __future__ import annotations

from fastapi import FastAPI


def create_app() -> FastAPI:
    app = FastAPI()

    @app.get("/")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    return app
