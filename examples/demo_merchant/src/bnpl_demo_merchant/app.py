"""The demo merchant's server: one FastAPI app serving each demo shop under its own prefix.

The flow of a real integration, server to server:

1. ``POST {prefix}/checkout``: the shop creates a checkout session with the merchant API (its
   own order reference, items and amount: the shopper never sends them to the platform) and
   redirects the browser to the session's ``redirectUrl``.
2. ``GET {prefix}/return`` (and ``/cancel``): the platform sends the shopper back with a signed
   outcome; the shop verifies the signature, accepts each return once, then reads the
   authoritative state with ``GET /v1/merchant/checkouts/{id}``.
3. ``POST {prefix}/webhooks/bnpl``: Standard Webhooks, verified and kept once per ``webhook-id``.
4. ``{prefix}/orders/{reference}``: the back office: ship (capture), cancel (void), refund.
"""

from __future__ import annotations

import logging
import re
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from bnpl_demo_merchant import pages
from bnpl_demo_merchant.catalog import SHOPS, Shop
from bnpl_demo_merchant.merchant_api import MerchantApi, MerchantApiError
from bnpl_demo_merchant.settings import CredentialsMissing, Settings, load_credentials
from bnpl_demo_merchant.signatures import SignatureRefused, verify_return, verify_webhook
from bnpl_demo_merchant.store import ShopStore

log = logging.getLogger("bnpl_demo_merchant")

MAX_FORM_BYTES = 4 * 1024
MAX_WEBHOOK_BYTES = 256 * 1024
_AMOUNT = re.compile(r"(\d{1,9})(?:\.(\d{1,2}))?")
_REFERENCE = re.compile(r"[A-Z0-9-]{1,40}")
# No script runs on these pages. form-action is left out on purpose: "Pay later" answers with a
# redirect to the checkout page on another origin, which a form-action of 'self' would block.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    # The return URL carries a signature: no page linked from here needs to see it.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass
class ShopRuntime:
    """One shop's catalogue, records and merchant API client."""

    shop: Shop
    store: ShopStore
    settings: Settings
    http: httpx.AsyncClient

    def api(self) -> MerchantApi:
        # Read every time: a key rotation written to the file is used at once.
        credentials = load_credentials(self.settings.credentials_file, self.shop.merchant_id)
        return MerchantApi(self.settings.api_url, self.settings.region, credentials, self.http)

    def webhook_secret(self) -> str:
        return load_credentials(self.settings.credentials_file, self.shop.merchant_id).webhook_secret


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=PAGE_HEADERS)


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    parsed = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {name: values[0] for name, values in parsed.items()}


def parse_amount(text: str) -> int | None:
    """``"12.5"`` -> 1250 minor units; None unless it is a plain positive decimal."""
    match = _AMOUNT.fullmatch(text.strip())
    if match is None:
        return None
    value = int(match[1]) * 100 + int((match[2] or "0").ljust(2, "0"))
    return value if value > 0 else None


def shop_router(rt: ShopRuntime) -> APIRouter:
    shop = rt.shop
    router = APIRouter(prefix=shop.prefix)

    @router.get("/", response_class=HTMLResponse)
    async def home() -> HTMLResponse:
        return _html(pages.products(shop))

    @router.post("/checkout")
    async def checkout(request: Request) -> Response:
        form = await _form(request)
        items: list[dict[str, Any]] = []
        for product in shop.products:
            raw = form.get(f"qty-{product.sku}", "0").strip() or "0"
            quantity = int(raw) if raw.isdigit() and len(raw) <= 2 else -1
            if quantity < 0:
                text = f"The quantity of {product.name} is not a number."
                return _html(pages.message(shop, "Check your cart", text), 400)
            if quantity:
                unit = {"amount": product.unit_price, "currency": shop.currency}
                items.append({"name": product.name, "quantity": quantity, "unitPrice": unit})
        if not items:
            return _html(pages.message(shop, "Your cart is empty", "Choose at least one product."), 400)
        total = sum(i["quantity"] * i["unitPrice"]["amount"] for i in items)
        reference = f"{shop.merchant_id.split('-')[-1][:2].upper()}-{secrets.token_hex(4).upper()}"
        rt.store.add_order(reference=reference, amount=total, currency=shop.currency, items=items)
        base = rt.settings.public_url.rstrip("/") + shop.prefix
        body = {
            "orderReference": reference,
            "amount": {"amount": total, "currency": shop.currency},
            "items": items,
            "returnUrl": f"{base}/return",
            "cancelUrl": f"{base}/cancel",
        }
        try:
            session = await rt.api().create_checkout(body, idempotency_key=f"checkout-{reference}")
        except (MerchantApiError, CredentialsMissing) as exc:
            log.warning("checkout session refused", extra={"order": reference, "error": type(exc).__name__})
            text = exc.message if isinstance(exc, MerchantApiError) else "This shop has no pay-later credentials."
            return _html(pages.message(shop, "Pay later is not available", text, kind="error"), 502)
        rt.store.attach_checkout(reference, str(session["id"]))
        return RedirectResponse(str(session["redirectUrl"]), status_code=303, headers=PAGE_HEADERS)

    async def back_from_checkout(request: Request) -> HTMLResponse:
        params = {name: value for name, value in request.query_params.items()}
        try:
            signed = verify_return(rt.webhook_secret(), params)
        except SignatureRefused as exc:
            log.info("return refused", extra={"reason": str(exc)})
            return _html(pages.refused(shop, str(exc)), 400)
        order = rt.store.order_by_checkout(signed.checkout_id)
        if order is None:
            return _html(pages.refused(shop, "the return is for a checkout this shop did not start"), 400)
        if not rt.store.consume_return(signed.webhook_id, signed.checkout_id):
            return _html(pages.refused(shop, "this signed return was already used (a replay)"), 400)
        try:
            state = await rt.api().get_checkout(signed.checkout_id)  # the authoritative state
        except (MerchantApiError, CredentialsMissing):
            state = {"status": "unknown (the pay-later service did not answer)", "amount": None}
        return _html(pages.returned(shop, order, signed.outcome, state))

    router.add_api_route("/return", back_from_checkout, methods=["GET"], response_class=HTMLResponse)
    router.add_api_route("/cancel", back_from_checkout, methods=["GET"], response_class=HTMLResponse)

    @router.post("/webhooks/bnpl")
    async def webhook(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_WEBHOOK_BYTES:
            return Response(status_code=413)
        try:
            event = verify_webhook(rt.webhook_secret(), body, dict(request.headers))
        except SignatureRefused as exc:
            log.info("webhook refused", extra={"reason": str(exc)})
            return Response(status_code=400)
        except CredentialsMissing:
            return Response(status_code=503)
        data = event.get("data")
        if not isinstance(data, dict):
            data = {}
        if data.get("merchantId") not in (None, shop.merchant_id):
            return Response(status_code=400)
        checkout_id = data.get("checkoutId")
        is_new = rt.store.record_webhook(
            webhook_id=request.headers["webhook-id"],
            type=str(event.get("type", "")),
            checkout_id=str(checkout_id) if checkout_id else None,
            payload=body,
        )
        log.info("webhook received", extra={"type": event.get("type"), "duplicate": not is_new})
        return Response(status_code=204)

    @router.get("/orders", response_class=HTMLResponse)
    async def orders() -> HTMLResponse:
        return _html(pages.orders_page(shop, rt.store.orders()))

    async def show_order(reference: str, *, notice: str = "", error: str = "", status: int = 200) -> HTMLResponse:
        order = rt.store.order(reference) if _REFERENCE.fullmatch(reference) else None
        if order is None:
            return _html(pages.message(shop, "No such order", "This shop has no order with that reference."), 404)
        checkout = None
        if order.checkout_id:
            try:
                checkout = await rt.api().get_checkout(order.checkout_id)
            except (MerchantApiError, CredentialsMissing) as exc:
                error = error or (exc.message if isinstance(exc, MerchantApiError) else "no credentials")
        keys = {name: str(uuid.uuid4()) for name in ("ship", "cancel", "refund")}
        webhooks = rt.store.webhooks(order.checkout_id) if order.checkout_id else []
        return _html(pages.order_page(shop, order, checkout, webhooks, keys=keys, notice=notice, error=error), status)

    @router.get("/orders/{reference}", response_class=HTMLResponse)
    async def order_page(reference: str, done: str = "") -> HTMLResponse:
        notices = {
            "ship": "Shipped: the amount is captured.",
            "cancel": "Cancelled: the rest is voided.",
            "refund": "Refunded.",
        }
        return await show_order(reference, notice=notices.get(done, ""))

    def action(name: str, call: Callable[[MerchantApi, str, int, str], Awaitable[Any]], *, amount: bool) -> None:
        async def handler(reference: str, request: Request) -> Response:
            order = rt.store.order(reference) if _REFERENCE.fullmatch(reference) else None
            if order is None or order.checkout_id is None:
                return _html(pages.message(shop, "No such order", "This shop has no such pay-later order."), 404)
            form = await _form(request)
            key = form.get("key", "")
            if not re.fullmatch(r"[0-9a-f-]{36}", key):
                key = str(uuid.uuid4())
            value = parse_amount(form.get("amount", "")) if amount else 0
            if value is None:
                return await show_order(reference, error="Enter an amount such as 12.50.", status=400)
            try:
                await call(rt.api(), order.checkout_id, value, key)
            except MerchantApiError as exc:
                return await show_order(reference, error=f"Refused: {exc.message}", status=exc.status)
            return RedirectResponse(f"{shop.prefix}/orders/{reference}?done={name}", status_code=303)

        router.add_api_route(f"/orders/{{reference}}/{name}", handler, methods=["POST"])

    def money_of(value: int) -> dict[str, Any]:
        return {"amount": value, "currency": shop.currency}

    action("ship", lambda api, cid, value, key: api.capture(cid, money_of(value), idempotency_key=key), amount=True)
    action("cancel", lambda api, cid, value, key: api.void(cid, idempotency_key=key), amount=False)
    action("refund", lambda api, cid, value, key: api.refund(cid, money_of(value), idempotency_key=key), amount=True)
    return router


def create_app(settings: Settings | None = None, shops: tuple[Shop, ...] = SHOPS) -> FastAPI:
    settings = settings or Settings()
    http = httpx.AsyncClient(timeout=httpx.Timeout(settings.api_timeout_seconds, connect=2.0))
    runtimes = [
        ShopRuntime(shop, ShopStore(settings.data_dir / f"{shop.merchant_id}.sqlite3"), settings, http)
        for shop in shops
    ]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        logging.basicConfig(level=settings.log_level)
        try:
            yield
        finally:
            await http.aclose()
            for rt in runtimes:
                rt.store.close()

    app = FastAPI(title="Demo merchant", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    # Longest prefix first: /books/... before /...
    for rt in sorted(runtimes, key=lambda r: len(r.shop.prefix), reverse=True):
        app.include_router(shop_router(rt))
        if rt.shop.prefix:
            prefix = rt.shop.prefix
            app.add_api_route(prefix, lambda p=prefix: RedirectResponse(f"{p}/"), methods=["GET"])

    @app.get("/livez")
    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    static = Path(str(files("bnpl_demo_merchant") / "static"))
    app.mount("/static", StaticFiles(directory=static), name="static")
    return app
