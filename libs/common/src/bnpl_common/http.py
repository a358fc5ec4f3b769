"""One shared httpx client per process, with explicit timeouts and the request id."""

from __future__ import annotations

import httpx

from bnpl_common.logging import REQUEST_ID_HEADER, request_id_var
from bnpl_common.telemetry import instrument_client

# A kept-alive connection must be dropped by the client before the server closes it: a request
# sent on a connection the server is closing at that moment fails (httpx ReadError) and is not
# retried (a POST may not be). Our servers keep idle connections SERVER_KEEP_ALIVE_SECONDS
# (bnpl_common.app.serve); the client lets them go well before.
SERVER_KEEP_ALIVE_SECONDS = 30
CLIENT_KEEPALIVE_EXPIRY_SECONDS = 10.0


async def _add_request_id(request: httpx.Request) -> None:
    rid = request_id_var.get()
    if rid and REQUEST_ID_HEADER not in request.headers:
        request.headers[REQUEST_ID_HEADER] = rid


def create_http_client(
    *,
    connect_timeout: float = 1.0,
    read_timeout: float = 5.0,
    write_timeout: float = 5.0,
    pool_timeout: float = 1.0,
    max_connections: int = 100,
    base_url: str = "",
    auth: httpx.Auth | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """Create the process's client; create it once (in the lifespan) and close it on shutdown.
    With tracing on, every call gets a client span and sends ``traceparent``."""
    client = httpx.AsyncClient(
        base_url=base_url,
        auth=auth,
        transport=transport,
        timeout=httpx.Timeout(connect=connect_timeout, read=read_timeout, write=write_timeout, pool=pool_timeout),
        limits=httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=max_connections // 2,
            keepalive_expiry=CLIENT_KEEPALIVE_EXPIRY_SECONDS,
        ),
        event_hooks={"request": [_add_request_id]},
        follow_redirects=False,
    )
    instrument_client(client)
    return client
