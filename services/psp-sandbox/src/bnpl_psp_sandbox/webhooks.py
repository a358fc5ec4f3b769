"""Signed webhooks in Stripe's format, so the credit service verifies the sandbox's events with
the same code (Stripe's library) as Stripe's: ``Stripe-Signature: t=<unix time>,v1=<hex>``, the
HMAC-SHA256 of ``"<t>.<raw body>"`` keyed with the endpoint's ``whsec_`` secret."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from functools import partial

import httpx
from bnpl_common.sqlite import SqliteDatabase

from bnpl_psp_sandbox import engine, store

log = logging.getLogger("bnpl_psp_sandbox.webhooks")

SIGNATURE_HEADER = "Stripe-Signature"


def signature_header(payload: str, secret: str, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def backoff_seconds(attempts: int) -> float:
    """Wait before the next try after ``attempts`` failures (Stripe backs off over days; a laptop can't)."""
    return float(min(2**attempts, 60))


class Worker:
    """Settles what is due (SEPA) and delivers pending events, oldest first, until stopped."""

    def __init__(
        self,
        db: SqliteDatabase,
        client: httpx.AsyncClient,
        *,
        url: str | None,
        secret: str,
        max_attempts: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.client = client
        self.url = url
        self.secret = secret
        self.max_attempts = max_attempts
        self.clock = clock
        self.wake = asyncio.Event()

    async def run(self, poll_seconds: float = 0.25) -> None:
        while True:
            try:
                await self.step()
            except Exception:  # the worker must outlive one bad round; the next one retries
                log.exception("webhook worker round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=poll_seconds)
            self.wake.clear()

    async def step(self) -> None:
        now = self.clock()
        await self.db.write(lambda conn: engine.settle_due(conn, now))
        if not self.url:
            return
        pending = await self.db.read(lambda conn: store.pending_events(conn, now, self.max_attempts))
        for event_id, body, attempts in pending:
            if await self._deliver(event_id, body):
                await self.db.write(partial(store.mark_delivered, event_id=event_id))
            else:
                retry_at = self.clock() + backoff_seconds(attempts)
                await self.db.write(partial(store.mark_failed, event_id=event_id, next_attempt=retry_at))
                # later events wait for this one: the receiver sees each object's events in order
                return

    async def _deliver(self, event_id: str, body: str) -> bool:
        assert self.url is not None
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature_header(body, self.secret)}
        try:
            response = await self.client.post(self.url, content=body.encode(), headers=headers)
        except httpx.HTTPError as exc:
            log.warning("webhook delivery failed", extra={"event_id": event_id, "error_class": type(exc).__name__})
            return False
        if response.is_success:
            return True
        log.warning("webhook refused", extra={"event_id": event_id, "status": response.status_code})
        return False
