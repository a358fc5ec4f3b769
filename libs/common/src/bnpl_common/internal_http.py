"""The client of the platform's own service-to-service calls: the gateway to the user and credit
services, the credit service to the model.

These calls are the hot path of every decision (three of them), and the client's own work was
a large share of a decision's CPU: httpx spent about 0.65 ms of the caller's CPU on each call
here, aiohttp about 0.18 ms (``bench/client_cost.py``, measured in one run). So these calls go
through :class:`AiohttpClient`; Cognito and the PSP stay on httpx, whose transports the tests
rely on (merchants' webhooks have their own pools: ``bnpl_credit.webhooks.connections``).

A call is one method: bytes in, :class:`Reply` out. Signing (SigV4) is the caller's, over the
exact URL and body sent. :class:`HttpxClient` answers the same calls through an
``httpx.AsyncClient``: tests hand the apps an ``httpx.MockTransport`` or an in-process ASGI
transport, and it keeps the old client one setting away.

Both send the request id (``X-Request-Id``) and, with tracing on, a client span and
``traceparent``; both raise :class:`CallFailed` for anything that is not an HTTP answer (a
refused connection, a reset, a timeout), so callers handle one exception whichever runs.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

import aiohttp
import httpx
from opentelemetry import propagate
from opentelemetry.trace import SpanKind
from yarl import URL

from bnpl_common.http import CLIENT_KEEPALIVE_EXPIRY_SECONDS, create_http_client
from bnpl_common.logging import REQUEST_ID_HEADER, request_id_var
from bnpl_common.telemetry import mark_error, tracer, tracing_on


class CallFailed(Exception):
    """No HTTP answer: the connection failed, was reset, or the call timed out."""

    def __init__(self, reason: str, *, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.timed_out = timed_out


@dataclass(frozen=True, slots=True)
class Reply:
    """An HTTP answer, read whole."""

    status: int
    body: bytes
    headers: Mapping[str, str]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        """The body as JSON (``ValueError`` if it is not)."""
        return json.loads(self.body)


class InternalClient(Protocol):
    async def request(self, method: str, url: str, *, headers: dict[str, str], body: bytes | None = None) -> Reply:
        """Send one request and read the whole answer. Raises :class:`CallFailed`; a deadline
        for the whole call is the caller's (``asyncio.timeout``), on top of the client's own
        connect and read timeouts."""
        ...

    async def aclose(self) -> None: ...


def _outgoing(method: str, url: str, headers: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The span name, and the request id on the headers (unless the caller set and signed one)."""
    rid = request_id_var.get()
    if rid and REQUEST_ID_HEADER not in headers:
        headers[REQUEST_ID_HEADER] = rid
    return f"{method} {urlsplit(url).path}", headers


class AiohttpClient:
    """Keep-alive pool on aiohttp, opened at the first call; create it once per process (in the
    lifespan), close it at shutdown. Idle connections are let go before the servers close them
    (``bnpl_common.http`` says why), and the URL is sent exactly as given (``encoded=True``): a
    SigV4 signature covers its path and query byte for byte, so the client must not re-quote
    them."""

    def __init__(
        self,
        *,
        connect_timeout: float = 1.0,
        read_timeout: float = 5.0,
        max_connections: int = 100,
    ) -> None:
        self._limit = max_connections
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout, sock_read=read_timeout)
        self._session: aiohttp.ClientSession | None = None  # made at the first call, on its loop

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self._limit, keepalive_timeout=CLIENT_KEEPALIVE_EXPIRY_SECONDS, use_dns_cache=True
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=self._timeout,
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept-Encoding"),
            raise_for_status=False,
        )
        return self._session

    async def request(self, method: str, url: str, *, headers: dict[str, str], body: bytes | None = None) -> Reply:
        name, headers = _outgoing(method, url, headers)
        if not tracing_on():
            return await self._send(method, url, headers, body)
        with tracer().start_as_current_span(name, kind=SpanKind.CLIENT) as current:
            if current.is_recording():
                current.set_attribute("http.method", method)
                current.set_attribute("http.url", url.partition("?")[0])
            propagate.inject(headers)
            try:
                reply = await self._send(method, url, headers, body)
            except CallFailed as exc:
                mark_error(current, "timeout" if exc.timed_out else "connection_error")
                raise
            if current.is_recording():
                current.set_attribute("http.status_code", reply.status)
            if reply.status >= 500:
                mark_error(current, f"http_{reply.status}")
            return reply

    async def _send(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> Reply:
        try:
            session = self._session or self._open()
            async with session.request(
                method, URL(url, encoded=True), headers=headers, data=body, allow_redirects=False
            ) as response:
                content = await response.read()
                return Reply(response.status, content, response.headers)
        except TimeoutError as exc:
            raise CallFailed("timeout", timed_out=True) from exc
        except aiohttp.ClientError as exc:
            raise CallFailed(type(exc).__name__) from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class HttpxClient:
    """The same calls through an ``httpx.AsyncClient`` (tests' transports; the shared client)."""

    def __init__(self, client: httpx.AsyncClient, *, owned: bool = False) -> None:
        self._client = client
        self._owned = owned

    @classmethod
    def over(
        cls, transport: httpx.AsyncBaseTransport, *, connect_timeout: float = 1.0, read_timeout: float = 5.0
    ) -> HttpxClient:
        """A client of its own on ``transport`` (closed by :meth:`aclose`)."""
        client = create_http_client(transport=transport, connect_timeout=connect_timeout, read_timeout=read_timeout)
        return cls(client, owned=True)

    async def request(self, method: str, url: str, *, headers: dict[str, str], body: bytes | None = None) -> Reply:
        _, headers = _outgoing(method, url, headers)
        try:
            response = await self._client.request(
                method,
                url,
                content=body,
                headers=headers,
            )
        except httpx.TimeoutException as exc:
            raise CallFailed("timeout", timed_out=True) from exc
        except httpx.HTTPError as exc:
            raise CallFailed(type(exc).__name__) from exc
        return Reply(response.status_code, response.content, response.headers)

    async def aclose(self) -> None:
        if self._owned:
            await self._client.aclose()


C = TypeVar("C", bound=InternalClient)


@asynccontextmanager
async def closing(client: C) -> AsyncIterator[C]:
    """``async with closing(AiohttpClient()) as client``: closed on the way out."""
    try:
        yield client
    finally:
        await client.aclose()
