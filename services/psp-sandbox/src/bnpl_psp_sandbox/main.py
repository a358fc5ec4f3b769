"""The sandbox PSP app: Stripe's API subset under ``/v1`` (form-encoded, ``Authorization: Bearer``
with the sandbox's secret key) and the card-entry page under ``/setup/{setup_intent}``.

Request bodies are never logged: on the page they hold card numbers. The access log line has the
method, the path (ids only) and the status.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Any
from urllib.parse import urlencode, urlsplit

from bnpl_common.http import create_http_client
from bnpl_common.idempotency import fingerprint
from bnpl_common.logging import RequestContextMiddleware, configure_logging
from bnpl_common.observability import install_observability
from bnpl_common.sqlite import SqliteDatabase
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from bnpl_psp_sandbox import engine, store
from bnpl_psp_sandbox.forms import FormError, decode_form
from bnpl_psp_sandbox.settings import Settings
from bnpl_psp_sandbox.webhooks import Worker

log = logging.getLogger("bnpl_psp_sandbox")

MAX_BODY_BYTES = 16 * 1024
STATIC = files("bnpl_psp_sandbox") / "static"
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
STATIC_TYPES = {"setup.js": "text/javascript", "setup.css": "text/css"}

Operation = Callable[[Any, dict[str, Any], engine.Context], engine.Result]


def stripe_error(status: int, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse({"error": body}, status_code=status)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    db = SqliteDatabase(settings.db_path, schema_sql=store.SCHEMA, synchronous="NORMAL")
    # keys the fingerprints of card numbers and IBANs: stable per sandbox, never the number itself
    fingerprint_key = hashlib.sha256(b"fingerprint:" + settings.webhook_secret.encode()).digest()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging("psp-sandbox", settings.log_level)
        await db.create_schema()
        client = create_http_client(connect_timeout=1.0, read_timeout=5.0)
        worker = Worker(
            db,
            client,
            url=settings.webhook_url,
            secret=settings.webhook_secret,
            max_attempts=settings.webhook_max_attempts,
        )
        app.state.worker = worker
        task = asyncio.create_task(worker.run())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await client.aclose()

    app = FastAPI(title="bnpl-psp-sandbox", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(RequestContextMiddleware)
    install_observability(app, "psp-sandbox")

    def context(request: Request) -> engine.Context:
        return engine.Context(
            idempotency_key=request.headers.get("idempotency-key"),
            fingerprint_key=fingerprint_key,
            sepa_settle_seconds=settings.sepa_settle_seconds,
        )

    def authorised(request: Request) -> bool:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(key.encode(), settings.api_key.encode())

    async def body_of(request: Request) -> bytes:
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            raise engine.ApiError(413, "Request body too large.")
        return body

    async def api_post(request: Request, operation: Operation) -> Response:
        if not authorised(request):
            return stripe_error(401, {"type": "invalid_request_error", "message": "Invalid API Key provided."})
        try:
            params = decode_form(await body_of(request))
        except FormError as exc:
            return stripe_error(400, {"type": "invalid_request_error", "message": str(exc), "param": exc.param})
        except engine.ApiError as exc:
            return stripe_error(exc.status, exc.body)
        ctx = context(request)
        key = ctx.idempotency_key
        # Stripe compares the parameters, not the bytes: a retry may encode them in another order
        print_ = fingerprint({"path": request.url.path, "params": params})

        def run(conn: Any) -> tuple[int, dict[str, Any], bool]:
            if key:
                stored = store.idempotent_result(conn, key)
                if stored is not None:
                    stored_print, status, body = stored
                    if stored_print != print_:
                        raise engine.ApiError(
                            400,
                            "Keys for idempotent requests can only be used with the same parameters they were first "
                            f"used with. Try using a key other than '{key}' if you meant to execute a different "
                            "request.",
                            type_="idempotency_error",
                        )
                    return status, body, True
            status, body = operation(conn, params, ctx)
            if key:
                store.save_idempotent_result(conn, key, print_, status, body)
            return status, body, False

        try:
            status, body, replayed = await db.write(run)
        except engine.ApiError as exc:
            return stripe_error(exc.status, exc.body)
        app.state.worker.wake.set()
        headers = {"Idempotent-Replayed": "true"} if replayed else {}
        if key:
            headers["Idempotency-Key"] = key
        return JSONResponse(body, status_code=status, headers=headers)

    async def api_get(request: Request, kind: str, object_id: str) -> Response:
        if not authorised(request):
            return stripe_error(401, {"type": "invalid_request_error", "message": "Invalid API Key provided."})
        try:
            status, body = await db.read(lambda conn: engine.retrieve(conn, kind, object_id))
        except engine.ApiError as exc:
            return stripe_error(exc.status, exc.body)
        return JSONResponse(body, status_code=status)

    @app.get("/livez", include_in_schema=False)
    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/customers")
    async def create_customer(request: Request) -> Response:
        return await api_post(request, engine.create_customer)

    @app.post("/v1/setup_intents")
    async def create_setup_intent(request: Request) -> Response:
        return await api_post(request, engine.create_setup_intent)

    @app.post("/v1/payment_intents")
    async def create_payment_intent(request: Request) -> Response:
        return await api_post(request, engine.create_payment_intent)

    @app.post("/v1/refunds")
    async def create_refund(request: Request) -> Response:
        return await api_post(request, engine.create_refund)

    for path, kind in (
        ("customers", "customer"),
        ("setup_intents", "setup_intent"),
        ("payment_methods", "payment_method"),
        ("payment_intents", "payment_intent"),
        ("refunds", "refund"),
    ):

        async def get_object(request: Request, object_id: str, kind: str = kind) -> Response:
            return await api_get(request, kind, object_id)

        app.add_api_route(f"/v1/{path}/{{object_id}}", get_object, methods=["GET"])

    @app.get("/v1/events/{event_id}")
    async def get_event(request: Request, event_id: str) -> Response:
        if not authorised(request):
            return stripe_error(401, {"type": "invalid_request_error", "message": "Invalid API Key provided."})
        event = await db.read(lambda conn: store.get_event(conn, event_id))
        if event is None:
            return stripe_error(404, engine.missing("event", event_id, "id").body)
        return JSONResponse(event)

    @app.get("/v1/events")
    async def list_events(request: Request, type: str | None = None, limit: int = 10) -> Response:
        if not authorised(request):
            return stripe_error(401, {"type": "invalid_request_error", "message": "Invalid API Key provided."})
        events = await db.read(lambda conn: store.list_events(conn, kind=type, limit=max(1, min(limit, 100))))
        return JSONResponse({"object": "list", "url": "/v1/events", "has_more": False, "data": events})

    # --- the card-entry page ---

    @app.get("/setup/{intent_id}", include_in_schema=False)
    async def setup_page(intent_id: str) -> Response:
        html = (STATIC / "setup.html").read_text(encoding="utf-8")
        return Response(html, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)  # browsers ask; an empty answer keeps their console clean

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        if name not in STATIC_TYPES:
            return JSONResponse({"error": {"type": "NotFound", "message": "not found"}}, status_code=404)
        return Response((STATIC / name).read_bytes(), media_type=STATIC_TYPES[name], headers=PAGE_HEADERS)

    async def page_json(request: Request) -> dict[str, Any]:
        try:
            data = json.loads(await body_of(request))
        except (ValueError, engine.ApiError):
            raise engine.PageError("the request could not be read", "body") from None
        if not isinstance(data, dict) or not isinstance(data.get("client_secret"), str):
            raise engine.PageError("the request could not be read", "body")
        return data

    def back_to_merchant(view: dict[str, Any], return_url: Any) -> dict[str, Any]:
        """Where the page sends the shopper when done: the return URL, as Stripe.js does, with the
        setup intent's id and outcome (not its client secret)."""
        if view["status"] not in ("succeeded", "processing"):
            return view
        url = return_url if isinstance(return_url, str) else ""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.hostname not in settings.return_url_hosts:
            return {**view, "redirect_url": None}
        query = urlencode({"setup_intent": view["id"], "redirect_status": view["status"]})
        return {**view, "redirect_url": f"{url}{'&' if parts.query else '?'}{query}"}

    async def page_call(request: Request, action: Callable[[Any, dict[str, Any]], dict[str, Any]]) -> Response:
        try:
            data = await page_json(request)
            view = await db.write(lambda conn: action(conn, data))
        except engine.PageError as exc:
            return JSONResponse({"error": {"message": str(exc), "field": exc.field}}, status_code=400)
        except engine.ApiError as exc:
            return JSONResponse({"error": {"message": exc.body["message"], "field": "setup"}}, status_code=exc.status)
        app.state.worker.wake.set()
        return JSONResponse(back_to_merchant(view, data.get("return_url")), headers={"Cache-Control": "no-store"})

    @app.post("/setup/{intent_id}/state", include_in_schema=False)
    async def page_state(request: Request, intent_id: str) -> Response:
        return await page_call(
            request,
            lambda conn, data: engine.page_view(engine.page_intent(conn, intent_id, data["client_secret"]).body),
        )

    @app.post("/setup/{intent_id}/confirm", include_in_schema=False)
    async def page_confirm(request: Request, intent_id: str) -> Response:
        ctx = context(request)
        return await page_call(
            request, lambda conn, data: engine.page_confirm(conn, intent_id, data["client_secret"], data, ctx)
        )

    @app.post("/setup/{intent_id}/authenticate", include_in_schema=False)
    async def page_authenticate(request: Request, intent_id: str) -> Response:
        return await page_call(
            request,
            lambda conn, data: engine.page_authenticate(
                conn, intent_id, data["client_secret"], complete=data.get("outcome") == "complete"
            ),
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = f"Unrecognized request URL ({request.method}: {request.url.path})."
        return stripe_error(exc.status_code, {"type": "invalid_request_error", "message": message})

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.error("unhandled error", extra={"error_class": type(exc).__name__, "path": request.url.path})
        return stripe_error(500, {"type": "api_error", "message": "internal error"})

    return app
