"""Keep-alive connections to merchants' webhook receivers, one pool per receiver identity.

Every attempt goes to the address checked at delivery time (:mod:`bnpl_credit.webhooks.addresses`),
so the request's URL names an IP address, and the receiver's host name travels in ``Host`` and in
TLS SNI. An HTTP client pools connections by the URL's scheme, host and port: one shared client
would hand a TLS connection made (and whose certificate was checked) for one merchant's host
name to another merchant whose host resolves to the same address. So each receiver identity
(scheme, address, port, ``Host`` and server name) has its own pool: a connection is only ever
reused for the same name at the same address it was opened for.

A connection goes back to its pool only when the answer was read to its end, so the receiver's
body is read, but at most :data:`DRAIN_LIMIT_BYTES` of it within :data:`DRAIN_SECONDS`; a
longer or slower body closes the connection instead (the status already decided the attempt).
Without reuse every webhook paid a new TCP connection, and in AWS (https only) a new TLS
handshake, in the credit service.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from bnpl_credit.webhooks.addresses import Target

DRAIN_LIMIT_BYTES = 64 * 1024  # a receiver's answer worth reading to keep its connection
DRAIN_SECONDS = 1.0
KEEPALIVE_SECONDS = 30.0  # an idle connection is closed after this (receivers often close at 60 s)
MAX_RECEIVERS = 256  # pools kept at once; the least recently used idle one is closed beyond this


@dataclass(frozen=True, slots=True)
class ReceiverKey:
    """What a kept connection was opened for: only a request for the same may reuse it."""

    origin: str  # the pinned URL's scheme://address:port
    host_header: str
    sni_hostname: str | None

    @classmethod
    def of(cls, target: Target) -> ReceiverKey:
        url = httpx.URL(target.url)
        return cls(f"{url.scheme}://{url.netloc.decode('ascii')}", target.host_header, target.sni_hostname)


class _Pool:
    __slots__ = ("busy", "client")

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.busy = 0


class ReceiverConnections:
    """``await connections.post(target, body, headers, time_limit=5.0)`` -> the receiver's status."""

    def __init__(
        self,
        *,
        per_receiver: int = 4,
        max_receivers: int = MAX_RECEIVERS,
        keepalive_seconds: float = KEEPALIVE_SECONDS,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self._per_receiver = per_receiver
        self._max_receivers = max_receivers
        self._keepalive = keepalive_seconds
        self._transport = transport  # tests: every receiver's requests through it
        self._verify = verify  # certificates checked against the system's CAs (a benchmark's own CA)
        self._pools: OrderedDict[ReceiverKey, _Pool] = OrderedDict()
        self._closing: set[asyncio.Task[None]] = set()

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=self._transport,
            verify=self._verify,
            follow_redirects=False,  # a redirect would leave the checked address
            trust_env=False,  # no proxy or certificates from the environment
            limits=httpx.Limits(
                max_connections=self._per_receiver,
                max_keepalive_connections=self._per_receiver,
                keepalive_expiry=self._keepalive,
            ),
        )

    def _acquire(self, key: ReceiverKey) -> _Pool:
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = _Pool(self._client())
        else:
            self._pools.move_to_end(key)
        pool.busy += 1  # before eviction: a pool in use is never closed
        self._evict()
        return pool

    def _evict(self) -> None:
        """Close the least recently used pools beyond the limit; one in use is left to finish."""
        for key in list(self._pools):
            if len(self._pools) <= self._max_receivers:
                return
            pool = self._pools[key]
            if pool.busy == 0:
                del self._pools[key]
                task = asyncio.get_running_loop().create_task(pool.client.aclose())
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)

    @property
    def receivers(self) -> int:
        """Pools kept now (tests, metrics)."""
        return len(self._pools)

    async def post(self, target: Target, content: bytes, headers: Mapping[str, str], *, time_limit: float) -> int:
        """POST ``content`` to the pinned address of ``target``; the status, once the headers are in.

        ``time_limit`` (seconds) bounds the whole exchange up to the status (a receiver that trickles its
        headers ends too); reading the body to keep the connection is bounded apart."""
        pool = self._acquire(ReceiverKey.of(target))
        try:
            extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else {}
            async with asyncio.timeout(time_limit):
                request = pool.client.build_request(
                    "POST",
                    target.url,
                    content=content,
                    headers={**headers, "host": target.host_header},
                    extensions=extensions,
                    timeout=time_limit,
                )
                response = await pool.client.send(request, stream=True)
            try:
                await _drain(response)
            finally:
                await response.aclose()  # back to the pool if read to its end, else closed
            return response.status_code
        finally:
            pool.busy -= 1

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            await pool.client.aclose()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)


async def _drain(response: httpx.Response) -> None:
    """Read a short answer to its end (so its connection can be kept); give up on a long or slow one."""
    declared = response.headers.get("content-length")
    if response.is_stream_consumed:  # a transport that answers from memory (tests)
        return
    if declared is not None and (not declared.isdigit() or int(declared) > DRAIN_LIMIT_BYTES):
        return
    read = 0
    with contextlib.suppress(TimeoutError, httpx.HTTPError):
        async with asyncio.timeout(DRAIN_SECONDS):
            async for chunk in response.aiter_raw():
                read += len(chunk)
                if read > DRAIN_LIMIT_BYTES:
                    return
