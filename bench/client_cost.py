"""What one internal HTTP call costs the calling process: the client's CPU per request, for the
shared httpx client the services use (``bnpl_common.http.create_http_client``, with and without
its tracing hooks) against a minimal HTTP/1.1 keep-alive client on asyncio streams, in one run.

    .venv/bin/python bench/client_cost.py [--requests 3000]

The server is the ladder's hello world (``bench/hello.py``) in its own process; only this
process's CPU (``time.process_time``) is counted, so the figures are the client's own cost, the
one the gateway pays twice per decision and the credit service once (the scorer). It decides
whether a leaner client for the internal signed calls is worth writing: the signing (SigV4) is
the same for any client and is left out.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bnpl_common.http import create_http_client  # noqa: E402
from bnpl_common.testing import free_port  # noqa: E402

from bench.hello import serve as serve_hello  # noqa: E402


async def with_httpx(url: str, n: int, *, traced: bool) -> float:
    client = create_http_client()
    if not traced:
        client.event_hooks = {"request": [], "response": []}
    try:
        await client.get(url)
        began = time.process_time()
        for _ in range(n):
            response = await client.get(url)
            assert response.status_code == 200
        return time.process_time() - began
    finally:
        await client.aclose()


async def with_aiohttp(url: str, n: int) -> float:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with session.get(url) as response:
            await response.read()
        began = time.process_time()
        for _ in range(n):
            async with session.get(url) as response:
                assert response.status == 200
                await response.read()
        return time.process_time() - began


async def with_streams(host: str, port: int, n: int) -> float:
    reader, writer = await asyncio.open_connection(host, port)
    request = f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()

    async def one() -> None:
        writer.write(request)
        status = await reader.readline()
        assert b" 200 " in status
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await reader.readexactly(length)

    try:
        await one()
        began = time.process_time()
        for _ in range(n):
            await one()
        return time.process_time() - began
    finally:
        writer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        server = serve_hello(port, Path(tmp) / "hello.log")
        try:
            url = f"http://127.0.0.1:{port}/"
            n = args.requests
            results = {}
            for _ in range(2):  # alternate, so a change in the machine's load hits all three
                results.setdefault("httpx, shared client (tracing hooks)", []).append(
                    asyncio.run(with_httpx(url, n, traced=True))
                )
                results.setdefault("httpx, no hooks", []).append(asyncio.run(with_httpx(url, n, traced=False)))
                results.setdefault("aiohttp ClientSession", []).append(asyncio.run(with_aiohttp(url, n)))
                results.setdefault("asyncio streams, keep-alive", []).append(
                    asyncio.run(with_streams("127.0.0.1", port, n))
                )
        finally:
            server.stop()
    print(f"client CPU per request, {n} sequential GETs each, two rounds alternating")
    for name, seconds in results.items():
        print(f"{name:<40} " + "  ".join(f"{1e6 * s / n:7.0f} us" for s in seconds))


if __name__ == "__main__":
    main()
