"""The checkout page and the demo shop: static files under ``services/gateway/web/``, served
with a strict Content-Security-Policy, plus ``GET /config.json`` that tells the page where
Cognito and the GraphQL API are. Nothing secret is in either: the app client is public."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bnpl_gateway.settings import Settings

log = logging.getLogger("bnpl.gateway.web")
DEFAULT_WEB_DIR = Path(__file__).resolve().parents[2] / "web"
GRAPHQL_PATH = "/graphql"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def checkout_config(settings: Settings) -> dict[str, Any]:
    """What the page needs to sign in and call the API; the same shape locally and in AWS."""
    return {
        "cognito": {
            "region": settings.aws_region,
            "endpoint": settings.cognito_browser_endpoint,
            "clientId": settings.checkout_cognito_client_id,
        },
        "graphqlUrl": GRAPHQL_PATH,
        "returnOrigins": settings.checkout_return_origins,
        "local": settings.is_local,
    }


def security_headers(settings: Settings) -> list[tuple[bytes, bytes]]:
    """CSP: scripts, styles and calls only to ourselves and Cognito; no framing, no inline code."""
    csp = "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"connect-src 'self' {_origin(settings.cognito_browser_endpoint)}",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ]
    )
    headers = {
        "content-security-policy": csp,
        "x-content-type-options": "nosniff",
        "referrer-policy": "same-origin",
        "x-frame-options": "DENY",
        "cache-control": "no-cache",
    }
    return [(k.encode(), v.encode()) for k, v in headers.items()]


class _WithHeaders:
    """An ASGI wrapper that adds fixed headers to every response of the wrapped app."""

    def __init__(self, app: ASGIApp, headers: list[tuple[bytes, bytes]]) -> None:
        self.app = app
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in self.headers}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": kept + self.headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def mount_web(app: FastAPI, settings: Settings) -> None:
    """``/checkout/``, ``/shop/`` (demo merchant, local mode by default), ``/config.json``, ``/``."""
    web_dir = settings.checkout_web_dir or DEFAULT_WEB_DIR
    if not (web_dir / "checkout" / "index.html").is_file():
        log.warning("checkout page not found; /checkout/ is not served", extra={"web_dir": str(web_dir)})
        return
    headers = security_headers(settings)
    config = checkout_config(settings)

    @app.get("/config.json", include_in_schema=False)
    async def page_config() -> JSONResponse:
        return JSONResponse(config, headers={"cache-control": "no-store"})

    home = "/shop/" if settings.demo_shop_enabled else "/checkout/"

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse(home)

    app.mount("/checkout", _WithHeaders(StaticFiles(directory=web_dir / "checkout", html=True), headers))
    if settings.demo_shop_enabled:
        app.mount("/shop", _WithHeaders(StaticFiles(directory=web_dir / "shop", html=True), headers))
