"""The shared client lets an idle connection go before any of our servers closes it.

Seen under load before this: a POST sent on a connection uvicorn was closing at that moment
(both sides used 5 s) failed with httpx.ReadError, and the gateway answered DependencyFailed.
"""

from __future__ import annotations

from typing import Any

import pytest
import uvicorn
from bnpl_common.app import serve
from bnpl_common.http import CLIENT_KEEPALIVE_EXPIRY_SECONDS, SERVER_KEEP_ALIVE_SECONDS, create_http_client


async def test_the_client_expires_idle_connections_before_the_servers_do() -> None:
    client = create_http_client()
    try:
        pool = client._transport._pool  # type: ignore[attr-defined] - httpx's pool keeps the setting here
        assert pool._keepalive_expiry == CLIENT_KEEPALIVE_EXPIRY_SECONDS
    finally:
        await client.aclose()
    assert CLIENT_KEEPALIVE_EXPIRY_SECONDS < SERVER_KEEP_ALIVE_SECONDS


def test_servers_keep_idle_connections_longer(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: seen.update(kw))
    serve("bnpl_example:create_app", host="127.0.0.1", port=1)
    assert seen["timeout_keep_alive"] == SERVER_KEEP_ALIVE_SECONDS


pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
