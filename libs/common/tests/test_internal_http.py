"""The services' internal client (aiohttp) against a real HTTP server on loopback: what it sends
is what was signed, byte for byte; what is not an HTTP answer is ``CallFailed``; a caller's
deadline ends a call; both clients answer alike."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
from bnpl_common.internal_http import AiohttpClient, CallFailed, HttpxClient, InternalClient, closing
from bnpl_common.logging import REQUEST_ID_HEADER, request_id_var
from bnpl_common.sigv4 import SigV4Signer, verify_sigv4
from bnpl_common.testing import fake_aws_credentials, free_port

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Seen:
    method: str = ""
    target: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass
class Server:
    port: int
    seen: list[Seen]
    delay: float = 0.0


async def _handle(server: Server, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while line := await reader.readline():
            seen = Seen()
            seen.method, seen.target, _ = line.decode("latin-1").split(" ", 2)
            while (header := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = header.decode("latin-1").partition(":")
                seen.headers[name.strip().lower()] = value.strip()
            seen.body = await reader.readexactly(int(seen.headers.get("content-length", "0")))
            server.seen.append(seen)
            await asyncio.sleep(server.delay)
            body = b'{"ok":true}'
            writer.write(b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n")
            writer.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = Server(port=free_port(), seen=[])
    listener = await asyncio.start_server(lambda r, w: _handle(state, r, w), "127.0.0.1", state.port)
    async with listener:
        yield state


async def test_the_url_and_body_arrive_as_signed_and_the_signature_verifies(server: Server) -> None:
    signer = SigV4Signer(fake_aws_credentials(), region="us-east-1")
    # a query with characters a client might re-quote: a space, a slash, a plus, unicode
    url = f"http://127.0.0.1:{server.port}/v1/things?b=x%20y&a=%2Fz&c=1%2B1&d=%C3%A9"
    body = b'{"amount":1000}'
    headers = {"Host": f"127.0.0.1:{server.port}", "Content-Type": "application/json", "Idempotency-Key": "k-1"}
    signer.sign("POST", url, headers, body)
    async with closing(AiohttpClient()) as client:
        reply = await client.request("POST", url, headers=dict(headers), body=body)
    assert reply.status == 201 and reply.ok and reply.json() == {"ok": True}
    seen = server.seen[0]
    assert seen.target == "/v1/things?b=x%20y&a=%2Fz&c=1%2B1&d=%C3%A9" and seen.body == body
    caller = verify_sigv4(
        method=seen.method,
        url=f"http://{seen.headers['host']}{seen.target}",
        headers=seen.headers,
        body=seen.body,
        secrets={fake_aws_credentials().access_key: fake_aws_credentials().secret_key},
        service="execute-api",
    )
    assert caller.access_key_id == fake_aws_credentials().access_key


async def test_connections_are_kept_alive_and_the_request_id_is_sent(server: Server) -> None:
    token = request_id_var.set("req-123")
    try:
        async with closing(AiohttpClient()) as client:
            for _ in range(3):
                await client.request("GET", f"http://127.0.0.1:{server.port}/x", headers={})
    finally:
        request_id_var.reset(token)
    assert [s.headers.get(REQUEST_ID_HEADER.lower()) for s in server.seen] == ["req-123"] * 3
    assert all("user-agent" not in s.headers for s in server.seen)


async def test_no_listener_is_call_failed() -> None:
    async with closing(AiohttpClient(connect_timeout=0.5)) as client:
        with pytest.raises(CallFailed) as failed:
            await client.request("GET", f"http://127.0.0.1:{free_port()}/", headers={})
    assert not failed.value.timed_out


async def test_a_slow_server_is_a_timeout(server: Server) -> None:
    server.delay = 2.0
    async with closing(AiohttpClient(read_timeout=0.2)) as client:
        with pytest.raises(CallFailed) as failed:
            await client.request("GET", f"http://127.0.0.1:{server.port}/", headers={})
        assert failed.value.timed_out
        with pytest.raises(TimeoutError):  # the caller's own deadline ends the call too
            async with asyncio.timeout(0.1):
                await client.request("GET", f"http://127.0.0.1:{server.port}/", headers={})


@pytest.mark.parametrize("kind", ["aiohttp", "httpx"])
async def test_both_clients_answer_alike(server: Server, kind: str) -> None:
    client: InternalClient = AiohttpClient() if kind == "aiohttp" else HttpxClient(httpx.AsyncClient(), owned=True)
    async with closing(client):
        reply = await client.request("PUT", f"http://127.0.0.1:{server.port}/y?q=1", headers={"X-A": "b"}, body=b"hi")
    assert (reply.status, reply.body, reply.headers["content-type"]) == (201, b'{"ok":true}', "application/json")
    assert (server.seen[0].method, server.seen[0].target, server.seen[0].body) == ("PUT", "/y?q=1", b"hi")
    assert server.seen[0].headers["x-a"] == "b"
