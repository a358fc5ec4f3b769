"""The checkout page: static files under ``services/gateway/web/checkout/``, served
with a strict Content-Security-Policy, plus ``GET /config.json`` that tells the page where
Cognito and the GraphQL API are. Nothing secret is in either: the app client is public.

Local only (``COGNITO_PROXY``): ``POST /cognito/`` passes the page's own Cognito calls through
to the local Cognito (moto), which docker compose does not publish. moto accepts any
credentials, so only the unauthenticated calls of a public app client are forwarded."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bnpl_gateway.settings import Settings

log = logging.getLogger("bnpl.gateway.web")
DEFAULT_WEB_DIR = Path(__file__).resolve().parents[2] / "web"
GRAPHQL_PATH = "/graphql"
COGNITO_PROXY_PATH = "/cognito/"
COGNITO_TARGET_PREFIX = "AWSCognitoIdentityProviderService."
# What web/checkout/cognito.js calls, except RespondToAuthChallenge (a test keeps the two in step).
# Everything else, Admin* and CreateUserPool first, would hand out admin powers over a pool that
# checks nothing; and moto answers any SRP proof (RespondToAuthChallenge) with tokens, so the
# settings refuse COGNITO_PROXY with COGNITO_AUTH_FLOW=USER_SRP_AUTH.
COGNITO_PROXY_OPERATIONS = frozenset({"SignUp", "ConfirmSignUp", "ResendConfirmationCode", "InitiateAuth"})
COGNITO_PROXY_REFUSED_PAGE_OPERATIONS = frozenset({"RespondToAuthChallenge"})
COGNITO_PROXY_MAX_BODY = 16 * 1024
COGNITO_CONTENT_TYPE = "application/x-amz-json-1.1"
# Stripe.js's 3-D Secure frames and its API (https://docs.stripe.com/security/guide#content-security-policy)
STRIPE_HOOKS_ORIGIN = "https://hooks.stripe.com"
STRIPE_API_ORIGIN = "https://api.stripe.com"


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
            # SRP hashes the pool's name (the part after "_"); the id is public, like the client's.
            "userPoolId": settings.cognito_user_pool_id,
            "authFlow": settings.checkout_auth_flow,
        },
        # The operations console (web/ops) signs staff in here; null: the pool above (local).
        "staffCognito": (
            {
                "region": settings.aws_region,
                "endpoint": settings.cognito_browser_endpoint,
                "clientId": settings.staff_cognito_client_ids[0],
                "userPoolId": settings.staff_cognito_user_pool_id,
                "authFlow": "USER_SRP_AUTH",
            }
            if settings.staff_cognito_user_pool_id and settings.staff_cognito_client_ids
            else None
        ),
        "graphqlUrl": GRAPHQL_PATH,
        "local": settings.is_local,
        # How the page collects a card: null for the sandbox PSP's own page; Stripe: its Payment
        # Element, Stripe.js from jsUrl, the account's publishable key (public by design).
        "stripe": (
            {"publishableKey": settings.psp_publishable_key, "jsUrl": settings.stripe_js_url}
            if settings.psp == "stripe"
            else None
        ),
    }


def security_headers(settings: Settings) -> list[tuple[bytes, bytes]]:
    """CSP: scripts, styles and calls only to ourselves and Cognito; no framing, no inline code.
    With ``PSP=stripe`` only: Stripe.js's script and frames (the Payment Element, 3-D Secure) and
    its API, as Stripe documents; the sandbox's page is a page of its own, so nothing else."""
    # Through the pass-through, Cognito is the gateway itself: 'self' covers it.
    connect = "'self'" if settings.cognito_proxy_enabled else f"'self' {_origin(settings.cognito_browser_endpoint)}"
    script, frames = "'self'", []
    if settings.psp == "stripe":
        stripe_js = _origin(settings.stripe_js_url)
        script = f"'self' {stripe_js}"
        frames = [f"frame-src 'self' {stripe_js} {STRIPE_HOOKS_ORIGIN}"]
        connect = f"{connect} {STRIPE_API_ORIGIN}"
    csp = "; ".join(
        [
            "default-src 'self'",
            f"script-src {script}",
            "style-src 'self'",
            "img-src 'self' data:",
            f"connect-src {connect}",
            *frames,
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ]
    )
    headers = {
        "content-security-policy": csp,
        "x-content-type-options": "nosniff",
        # The page's URL carries the checkout token: no site it links to needs it.
        "referrer-policy": "no-referrer",
        "x-frame-options": "DENY",
        "cache-control": "no-cache",
    }
    return [(k.encode(), v.encode()) for k, v in headers.items()]


HSTS = "max-age=31536000; includeSubDomains"


def response_headers(settings: Settings) -> list[tuple[bytes, bytes]]:
    """On every response of the gateway (API, page, health): no MIME sniffing; HSTS in AWS only,
    where the ALB serves HTTPS (a local browser would pin plain-HTTP 127.0.0.1 to HTTPS)."""
    headers = [(b"x-content-type-options", b"nosniff")]
    if settings.hsts_enabled:
        headers.append((b"strict-transport-security", HSTS.encode()))
    return headers


class WithHeaders:
    """An ASGI wrapper that adds fixed headers to every response of the wrapped app (the page's
    static files; the whole gateway app in ``main.GatewayApp``)."""

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


def _cognito_error(status: int, error_type: str, message: str) -> JSONResponse:
    """Cognito's own error shape, so the page (and boto3) read it like any Cognito error."""
    return JSONResponse(
        {"__type": error_type, "message": message},
        status_code=status,
        media_type=COGNITO_CONTENT_TYPE,
        headers={"cache-control": "no-store"},
    )


def canonical_cognito_body(raw: bytes) -> bytes | None:
    r"""The JSON object re-encoded with no ``&`` or ``=`` outside escapes, or None if it is not one.

    moto reads a form-style ``Action=...`` out of any body before it looks at X-Amz-Target, so
    ``{"ClientId": "x&Action=AdminCreateUser&..."}`` sent as a SignUp would run AdminCreateUser.
    ``\u0026`` and ``\u003d`` decode to the same JSON, and leave nothing to split on.
    """
    try:
        value = json.loads(raw)
    except ValueError:  # UnicodeDecodeError included
        return None
    if not isinstance(value, dict):
        return None
    text = json.dumps(value, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("=", "\\u003d").encode()


def mount_cognito_proxy(app: FastAPI, settings: Settings) -> None:
    """``POST /cognito/``: the page's Cognito calls, forwarded to COGNITO_ENDPOINT (local only)."""
    if not settings.cognito_proxy_enabled:
        return
    assert settings.cognito_endpoint  # the settings refuse COGNITO_PROXY without it
    upstream_url = settings.cognito_endpoint.rstrip("/") + "/"
    timeout = httpx.Timeout(settings.http_read_timeout, connect=settings.http_connect_timeout)
    allowed = ", ".join(sorted(COGNITO_PROXY_OPERATIONS))

    async def cognito_proxy(request: Request) -> Response:
        target = request.headers.get("x-amz-target", "")
        operation = target.removeprefix(COGNITO_TARGET_PREFIX) if target.startswith(COGNITO_TARGET_PREFIX) else ""
        if operation not in COGNITO_PROXY_OPERATIONS:
            log.info("cognito pass-through refused", extra={"target": target[:100]})
            return _cognito_error(
                400,
                "UnsupportedOperationException",
                f"The local Cognito pass-through forwards only the checkout page's calls ({allowed}); "
                f"X-Amz-Target {target[:100]!r} is refused.",
            )
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != COGNITO_CONTENT_TYPE:
            return _cognito_error(400, "SerializationException", f"Content-Type must be {COGNITO_CONTENT_TYPE}.")
        raw = bytearray()
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > COGNITO_PROXY_MAX_BODY:
                return _cognito_error(413, "InvalidParameterException", "The request body is too large.")
        body = canonical_cognito_body(bytes(raw))
        if body is None:
            return _cognito_error(400, "SerializationException", "The request body must be a JSON object.")
        http: httpx.AsyncClient | None = getattr(request.app.state, "cognito_http", None)
        if http is None or getattr(request.app.state, "upstreams", None) is None:  # not started, or stopping
            return _cognito_error(503, "ServiceUnavailableException", "The gateway is not ready.")
        try:
            reply = await http.post(
                upstream_url,
                content=body,
                headers={"content-type": COGNITO_CONTENT_TYPE, "x-amz-target": target},
                timeout=timeout,
            )
        except httpx.HTTPError as exc:
            # Never the body: it carries passwords and confirmation codes.
            log.warning("local cognito unreachable", extra={"operation": operation, "error_class": type(exc).__name__})
            return _cognito_error(502, "ServiceUnavailableException", "The local Cognito is not reachable.")
        log.info("cognito pass-through", extra={"operation": operation, "status": reply.status_code})
        return Response(
            content=reply.content,
            status_code=reply.status_code,
            media_type=reply.headers.get("content-type", COGNITO_CONTENT_TYPE),
            headers={"cache-control": "no-store"},
        )

    for path in (COGNITO_PROXY_PATH, COGNITO_PROXY_PATH.rstrip("/")):
        app.add_api_route(path, cognito_proxy, methods=["POST"], include_in_schema=False)


def mount_web(app: FastAPI, settings: Settings) -> None:
    """``/checkout/``, ``/config.json``, ``/`` (to the checkout) and the local Cognito pass-through
    when COGNITO_PROXY is on. The demo merchant is a server of its own (``examples/demo_merchant``)."""
    mount_cognito_proxy(app, settings)
    web_dir = settings.checkout_web_dir or DEFAULT_WEB_DIR
    if not (web_dir / "checkout" / "index.html").is_file():
        log.warning("checkout page not found; /checkout/ is not served", extra={"web_dir": str(web_dir)})
        return
    headers = security_headers(settings)
    config = checkout_config(settings)

    @app.get("/config.json", include_in_schema=False)
    async def page_config(request: Request) -> JSONResponse:
        body = config
        if settings.cognito_proxy_enabled:
            # The origin the browser loaded the page from, so the call stays same-origin.
            endpoint = str(request.base_url).rstrip("/") + COGNITO_PROXY_PATH
            body = {**config, "cognito": {**config["cognito"], "endpoint": endpoint}}
        return JSONResponse(body, headers={"cache-control": "no-store"})

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/checkout/")

    app.mount("/checkout", WithHeaders(StaticFiles(directory=web_dir / "checkout", html=True), headers))
    if (web_dir / "ops" / "index.html").is_file():  # the operations console (staff sign in; see roles.py)
        app.mount("/ops", WithHeaders(StaticFiles(directory=web_dir / "ops", html=True), headers))
