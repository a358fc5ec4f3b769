"""The webhook parts the credit service builds once: the fan-out hook of the relay, the
dispatcher (a background task next to the relay) and what the routes need."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from bnpl_common.clock import Clock
from fastapi import Request

from bnpl_credit.events.model import Event
from bnpl_credit.settings import Settings
from bnpl_credit.webhooks.addresses import Resolver, system_resolver
from bnpl_credit.webhooks.connections import ReceiverConnections
from bnpl_credit.webhooks.dispatcher import DispatchConfig, Dispatcher, DispatchStore
from bnpl_credit.webhooks.fanout import FanOutStore, fan_out
from bnpl_credit.webhooks.model import RetryPolicy


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


class MerchantList(Protocol):
    async def list_merchants(self) -> Sequence[_Identified]: ...


@dataclass
class WebhookRuntime:
    window: timedelta
    dispatcher: Dispatcher | None = None
    connections: ReceiverConnections | None = field(default=None, repr=False)

    def wake(self, merchant_ids: Iterable[str] = ()) -> None:
        if self.dispatcher is not None:
            self.dispatcher.wake(merchant_ids)

    async def aclose(self) -> None:
        if self.dispatcher is not None:
            await self.dispatcher.aclose()
        if self.connections is not None:
            await self.connections.aclose()


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        ceilings=tuple(settings.webhook_retry_schedule_seconds),
        window=timedelta(seconds=settings.webhook_retry_window_seconds),
    )


def build_runtime(
    settings: Settings,
    store: DispatchStore,
    clock: Clock,
    *,
    merchant_ids: Callable[[], Awaitable[Sequence[str]]],
    resolver: Resolver = system_resolver,
) -> WebhookRuntime:
    """The dispatcher with its own connections: no redirects, no proxy from the environment,
    the attempt's timeout, connections kept per receiver (as many as it may be sent at once)."""
    policy = retry_policy(settings)
    runtime = WebhookRuntime(window=policy.window)
    if not settings.webhook_dispatcher:
        return runtime
    connections = ReceiverConnections(per_receiver=settings.webhook_concurrency_per_merchant)
    config = DispatchConfig(
        policy=policy,
        timeout_seconds=settings.webhook_timeout_seconds,
        per_merchant=settings.webhook_concurrency_per_merchant,
        max_in_flight=settings.webhook_max_in_flight,
        strict_urls=not settings.is_local,
    )
    runtime.connections = connections
    runtime.dispatcher = Dispatcher(store, connections, clock, config, merchant_ids=merchant_ids, resolver=resolver)
    return runtime


def fan_out_hook(
    store: FanOutStore, clock: Clock, runtime: WebhookRuntime
) -> Callable[[Sequence[Event]], Awaitable[None]]:
    """What the relay calls with each batch before publishing it."""

    async def hook(events: Sequence[Event]) -> None:
        merchants: set[str] = set()
        if await fan_out(store, events, now=clock.now(), window=runtime.window, merchants=merchants):
            runtime.wake(merchants)

    return hook


def merchant_ids_of(store: MerchantList) -> Callable[[], Awaitable[Sequence[str]]]:
    """The merchants whose queues the dispatcher looks at: every registered one."""

    async def ids() -> list[str]:
        return [merchant.id for merchant in await store.list_merchants()]

    return ids


async def webhook_runtime(request: Request) -> WebhookRuntime:
    runtime: WebhookRuntime = request.app.state.webhooks
    return runtime
