"""What one webhook costs the credit service's process in connections: a new connection per
webhook (the dispatcher before connections were kept) against one kept per receiver
on aiohttp (``bnpl_credit.webhooks.connections.ReceiverConnections``), over plain HTTP
(``make run``) and over TLS (AWS allows https receivers only), in one run.

    .venv/bin/python bench/webhook_connections.py [--requests 1000]

The receiver is the ladder's hello world (``bench/hello.py``) served by uvicorn in its own
process, with a certificate for ``localhost`` made here by a private CA; only this process's CPU
(``time.process_time``) is counted: the sender's share, which is the credit service's. Each
request goes to the pinned address with the host name in ``Host`` and SNI, as a webhook does.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import ssl
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from bnpl_common.testing import free_port  # noqa: E402
from bnpl_credit.webhooks.addresses import Target  # noqa: E402
from bnpl_credit.webhooks.connections import ReceiverConnections  # noqa: E402
from bnpl_credit.webhooks.testing import tls_certificates  # noqa: E402

from bench.hello import serve as serve_hello  # noqa: E402

BODY = b'{"type":"checkout.approved","id":"evt","data":{}}'


async def new_connection_each(target: Target, n: int, verify: ssl.SSLContext | None) -> float:
    """The dispatcher before: the answer's body never read, so every connection was closed."""
    async with httpx.AsyncClient(verify=verify or True, trust_env=False) as client:
        began = time.process_time()
        for _ in range(n):
            extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else {}
            request = client.build_request(
                "POST", target.url, content=BODY, headers={"host": target.host_header}, extensions=extensions
            )
            response = await client.send(request, stream=True)
            await response.aclose()
            assert response.status_code == 200
        return time.process_time() - began


async def kept(target: Target, n: int, verify: ssl.SSLContext | None) -> float:
    connections = ReceiverConnections(verify=verify)
    try:
        began = time.process_time()
        for _ in range(n):
            assert await connections.post(target, BODY, {}, time_limit=5.0) == 200
        return time.process_time() - began
    finally:
        await connections.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    n = args.requests
    with tempfile.TemporaryDirectory() as tmp:
        ca, cert, key = tls_certificates(Path(tmp))
        context = ssl.create_default_context(cafile=str(ca))
        os.environ["SSL_CERT_FILE"] = str(ca)  # the health check's client (httpx reads it)
        servers = []
        try:
            for scheme in ("http", "https"):
                port = free_port()
                servers.append(
                    serve_hello(port, Path(tmp) / f"{scheme}.log", tls=(cert, key) if scheme == "https" else None)
                )
                target = Target(
                    url=f"{scheme}://127.0.0.1:{port}/",
                    host_header=f"localhost:{port}",
                    sni_hostname="localhost" if scheme == "https" else None,
                )
                verify = context if scheme == "https" else None
                asyncio.run(kept(target, 20, verify))  # warm up
                rounds = {"new connection each": [], "kept per receiver": []}
                for _ in range(2):  # alternating, twice
                    rounds["new connection each"].append(asyncio.run(new_connection_each(target, n, verify)))
                    rounds["kept per receiver"].append(asyncio.run(kept(target, n, verify)))
                for name, seconds in rounds.items():
                    per = ", ".join(f"{1e6 * s / n:.0f}" for s in seconds)
                    print(f"{scheme:5}  {name:20}  {per} us of the sender's CPU per webhook")
        finally:
            for server in servers:
                server.stop()


if __name__ == "__main__":
    main()
