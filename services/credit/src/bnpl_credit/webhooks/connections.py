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

The requests go out on aiohttp, whose client costs the sender about a quarter of httpx's CPU per
request (``bench/webhook_connections.py``); certificates are checked against certifi's bundle,
as httpx checks them.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp
import certifi
from bnpl_common.internal_http import CallFailed
from yarl import URL

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
        url = URL(target.url, encoded=True)
        return cls(f"{url.scheme}://{url.raw_authority}", target.host_header, target.sni_hostname)


class _Sender:
    """One receiver's keep-alive connections on aiohttp."""

    def __init__(self, *, connections: int, keepalive_seconds: float, verify: ssl.SSLContext) -> None:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=connections, keepalive_timeout=keepalive_seconds, ssl=verify, use_dns_cache=False
            ),
            trust_env=False,  # no proxy from the environment
            auto_decompress=False,
            skip_auto_headers=("Accept-Encoding",),
        )

    async def post(self, target: Target, content: bytes, headers: Mapping[str, str], time_limit: float) -> int:
        try:
            async with asyncio.timeout(time_limit):
                response = await self._session.post(
                    URL(target.url, encoded=True),  # the checked address, as resolved
                    data=content,
                    headers={**headers, "Host": target.host_header},
                    server_hostname=target.sni_hostname,  # the name the certificate is checked against
                    allow_redirects=False,  # a redirect would leave the checked address
                )
        except TimeoutError as exc:
            raise CallFailed("timeout", timed_out=True) from exc
        except aiohttp.ClientError as exc:
            raise CallFailed(type(exc).__name__) from exc
        try:
            if _short(response.headers.get("content-length")):
                with contextlib.suppress(TimeoutError, aiohttp.ClientError):
                    async with asyncio.timeout(DRAIN_SECONDS):
                        read = 0
                        while read <= DRAIN_LIMIT_BYTES and not response.content.at_eof():
                            read += len(await response.content.read(DRAIN_LIMIT_BYTES + 1))
        finally:
            if response.content.at_eof():
                response.release()  # read to its end: the connection goes back to the pool
            else:
                response.close()
        return response.status

    async def aclose(self) -> None:
        await self._session.close()


def _short(declared: str | None) -> bool:
    """Whether an answer is worth reading to keep its connection (unknown length: try)."""
    return declared is None or (declared.isdigit() and int(declared) <= DRAIN_LIMIT_BYTES)


class _Pool:
    __slots__ = ("busy", "sender")

    def __init__(self, sender: _Sender) -> None:
        self.sender = sender
        self.busy = 0


class ReceiverConnections:
    """``await connections.post(target, body, headers, time_limit=5.0)`` -> the receiver's status,
    or :class:`CallFailed`."""

    def __init__(
        self,
        *,
        per_receiver: int = 4,
        max_receivers: int = MAX_RECEIVERS,
        keepalive_seconds: float = KEEPALIVE_SECONDS,
        verify: ssl.SSLContext | None = None,
    ) -> None:
        self._per_receiver = per_receiver
        self._max_receivers = max_receivers
        self._keepalive = keepalive_seconds
        # certificates checked against certifi's CAs, as httpx does (a test's or benchmark's own CA)
        self._verify = verify
        self._pools: OrderedDict[ReceiverKey, _Pool] = OrderedDict()
        self._closing: set[asyncio.Task[None]] = set()

    def _sender(self) -> _Sender:
        if self._verify is None:
            self._verify = ssl.create_default_context(cafile=certifi.where())
        return _Sender(connections=self._per_receiver, keepalive_seconds=self._keepalive, verify=self._verify)

    def _acquire(self, key: ReceiverKey) -> _Pool:
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = _Pool(self._sender())
        else:
            self._pools.move_to_end(key)
        pool.busy += 1  # before eviction: a pool in use is never closed
        self._evict()
        return pool

    def _evict(self) -> None:
        """Close the least recently used pools beyond the limit; one in use is left to finish."""
        if len(self._pools) <= self._max_receivers:
            return
        for key in list(self._pools):
            if len(self._pools) <= self._max_receivers:
                return
            pool = self._pools[key]
            if pool.busy == 0:
                del self._pools[key]
                task = asyncio.get_running_loop().create_task(pool.sender.aclose())
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)

    @property
    def receivers(self) -> int:
        """Pools kept now (tests, metrics)."""
        return len(self._pools)

    async def post(self, target: Target, content: bytes, headers: Mapping[str, str], *, time_limit: float) -> int:
        """POST ``content`` to the pinned address of ``target``; the status, once the headers are in.

        ``time_limit`` (seconds) bounds the whole exchange up to the status (a receiver that
        trickles its headers ends too); reading the body to keep the connection is bounded apart."""
        pool = self._acquire(ReceiverKey.of(target))
        try:
            return await pool.sender.post(target, content, headers, time_limit)
        finally:
            pool.busy -= 1

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            await pool.sender.aclose()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
