"""Webhook delivery: signatures, the retry schedule, URL checks, fan-out from the outbox, and the
dispatcher against real HTTP receivers (threads on free ports): retries with one webhook-id,
order per checkout, no merchant delaying another, at least once across a crash."""

from __future__ import annotations

import asyncio
import json
import random
import ssl
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from bnpl_common.clock import FixedClock
from bnpl_common.internal_http import CallFailed
from bnpl_credit.events.model import Event, EventType
from bnpl_credit.markets.catalog import load_catalog
from bnpl_credit.merchants import registry
from bnpl_credit.storage.sqlite import SqliteStore
from bnpl_credit.testing import NOW
from bnpl_credit.webhooks.addresses import AddressRefused, Resolver, Target, resolve_target, system_resolver
from bnpl_credit.webhooks.connections import DRAIN_LIMIT_BYTES, ReceiverConnections
from bnpl_credit.webhooks.dispatcher import DispatchConfig, Dispatcher
from bnpl_credit.webhooks.fanout import fan_out, webhook_type
from bnpl_credit.webhooks.model import Attempt, DeliveryStatus, RetryPolicy, WebhookDelivery
from bnpl_credit.webhooks.signing import signature_headers
from bnpl_credit.webhooks.testing import HANG, WebhookReceiver, tls_certificates
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SECRET_A = "whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="  # base64 of 32 bytes
SECRET_B = "whsec_" + "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="
WINDOW = timedelta(hours=24)
FAST = RetryPolicy(ceilings=(1.0, 2.0, 4.0), window=WINDOW)
MARKETS = load_catalog()


# -- signing --------------------------------------------------------------------------------


def test_each_secret_of_a_rotation_verifies_the_same_message() -> None:
    payload = '{"type":"checkout.captured"}'
    headers = signature_headers([SECRET_B, SECRET_A], msg_id="evt-1", timestamp=datetime.now(UTC), payload=payload)
    assert headers["webhook-id"] == "evt-1"
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (SECRET_A, SECRET_B):  # a receiver that knows either one accepts it
        assert Webhook(secret).verify(payload, headers) == {"type": "checkout.captured"}
    other = "whsec_" + "Q0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0M="
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(payload, headers)
    with pytest.raises(WebhookVerificationError):  # a changed body is refused
        Webhook(SECRET_A).verify(payload.replace("captured", "voided"), headers)


def test_no_secret_no_signature() -> None:
    with pytest.raises(ValueError):
        signature_headers([], msg_id="evt-1", timestamp=datetime.now(UTC), payload="{}")


# -- the retry schedule ---------------------------------------------------------------------


def test_retries_wait_a_random_time_up_to_a_growing_ceiling() -> None:
    policy = RetryPolicy(ceilings=(5, 10, 20), window=WINDOW)
    rng = random.Random(1)
    until = NOW + WINDOW
    for failures, ceiling in ((1, 5), (2, 10), (3, 20), (9, 20)):
        waits = [
            (policy.next_attempt(failures=failures, now=NOW, retry_until=until, rng=rng) - NOW).total_seconds()  # type: ignore[operator]
            for _ in range(200)
        ]
        assert min(waits) >= 0 and max(waits) <= ceiling
        assert max(waits) > ceiling / 2  # jittered over the whole range, not a fixed delay


def test_retried_until_the_window_ends_then_failed() -> None:
    """Simulated: a receiver that never answers 2xx is tried until the window has passed, and
    only an attempt at or after its end makes the delivery FAILED."""
    policy = RetryPolicy(ceilings=(60, 600, 3600), window=WINDOW)
    rng = random.Random(3)
    delivery = _delivery("shop-a", "chk_1")
    at = NOW
    while delivery.status is DeliveryStatus.PENDING:
        assert delivery.next_attempt_at is not None
        at = delivery.next_attempt_at
        delivery = delivery.after_attempt(_attempt(500, at), policy=policy, rng=rng)
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.failed_at == at >= NOW + WINDOW
    assert len(delivery.attempts) > 24  # hourly at most: at least a day of retries
    gaps = [(b.attempted_at - a.attempted_at).total_seconds() for a, b in pairwise(delivery.attempts)]
    assert max(gaps) <= 3600


def test_a_2xx_ends_the_delivery_and_a_redelivery_starts_it_again() -> None:
    delivery = _delivery("shop-a", "chk_1").after_attempt(_attempt(503, NOW), policy=FAST, rng=random.Random(0))
    assert delivery.status is DeliveryStatus.PENDING
    assert delivery.next_attempt_at is not None and delivery.next_attempt_at <= NOW + timedelta(seconds=1)
    done = delivery.after_attempt(_attempt(204, NOW + timedelta(seconds=1)), policy=FAST, rng=random.Random(0))
    assert (done.status, done.next_attempt_at, [a.number for a in done.attempts]) == (
        DeliveryStatus.DELIVERED,
        None,
        [1, 2],
    )
    later = NOW + timedelta(days=3)
    again = done.redelivery(now=later, window=WINDOW)
    assert (again.status, again.next_attempt_at, again.retry_until) == (DeliveryStatus.PENDING, later, later + WINDOW)
    failed_again = again.after_attempt(_attempt(500, later), policy=FAST, rng=random.Random(0))
    assert failed_again.attempts[-1].trigger.value == "REDELIVERY"
    assert failed_again.failures_since_reset == 1


# -- where a webhook may go -----------------------------------------------------------------


def _resolver(*answers: str) -> Callable[[str, int], Awaitable[list[str]]]:
    async def resolve(host: str, port: int) -> list[str]:
        return list(answers)

    return resolve


@pytest.mark.parametrize(
    ("url", "answers", "reason"),
    [
        ("http://shop.example/hook", ["93.184.215.14"], "https_required"),
        ("https://shop.example/hook", ["127.0.0.1"], "address_refused"),
        ("https://shop.example/hook", ["10.0.0.5"], "address_refused"),
        ("https://shop.example/hook", ["169.254.169.254"], "address_refused"),  # instance metadata
        ("https://shop.example/hook", ["93.184.215.14", "192.168.1.1"], "address_refused"),  # one is enough
        ("https://shop.example/hook", ["::ffff:127.0.0.1"], "address_refused"),
        ("https://shop.example/hook", ["fd00::1"], "address_refused"),
        ("https://user:pw@shop.example/hook", ["93.184.215.14"], "invalid_url"),
        ("ftp://shop.example/hook", ["93.184.215.14"], "invalid_url"),
        ("https://shop.example/hook", [], "unresolvable"),
    ],
)
def test_in_aws_only_https_to_public_addresses(url: str, answers: list[str], reason: str) -> None:
    with pytest.raises(AddressRefused) as refused:
        asyncio.run(resolve_target(url, strict=True, resolver=_resolver(*answers)))
    assert refused.value.reason == reason


def test_the_request_goes_to_the_checked_address_under_the_merchants_host_name() -> None:
    target = asyncio.run(
        resolve_target("https://shop.example/hooks/bnpl?x=1", strict=True, resolver=_resolver("93.184.215.14"))
    )
    assert (target.url, target.host_header, target.sni_hostname) == (
        "https://93.184.215.14:443/hooks/bnpl?x=1",
        "shop.example",
        "shop.example",
    )
    local = asyncio.run(resolve_target("http://localhost:8100/hook", strict=False, resolver=_resolver("::1")))
    assert (local.url, local.host_header, local.sni_hostname) == ("http://[::1]:8100/hook", "localhost:8100", None)


# -- fan-out ----------------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    return SqliteStore(tmp_path / "credit.sqlite3")


async def _merchant(store: SqliteStore, merchant_id: str, url: str | None, secret: str = SECRET_A) -> Any:
    return await registry.create_merchant(
        store,
        MARKETS,
        merchant_id=merchant_id,
        display_name=merchant_id,
        market="EU",
        currency="EUR",
        origins=["http://127.0.0.1:8100"],
        webhook_url=url,
        now=NOW,
        local=True,
        webhook_secret=secret,
    )


def _checkout_event(
    merchant_id: str, checkout_id: str, kind: EventType = EventType.CHECKOUT_APPROVED, at: int = 0
) -> Event:
    return Event.new(
        kind,
        now=NOW + timedelta(seconds=at),
        customer_id="customer-sub",
        data={"merchantId": merchant_id, "checkoutId": checkout_id, "checkout": {"id": checkout_id, "status": "X"}},
    )


def test_merchant_events_become_one_delivery_each_and_others_none(store: SqliteStore) -> None:
    async def body() -> None:
        await _merchant(store, "shop-a", "http://127.0.0.1:9/hook")
        await _merchant(store, "shop-quiet", None)
        approved = _checkout_event("shop-a", "chk_1")
        events = [
            approved,
            _checkout_event("shop-quiet", "chk_2"),  # no webhook URL: nothing to deliver
            _checkout_event("shop-unknown", "chk_3"),
            Event.new(EventType.DECISION_MADE, now=NOW, customer_id="c", data={"merchantId": "shop-a"}),
            Event.new(EventType.INSTALLMENT_LATE, now=NOW, customer_id="c", data={"planId": "no-such-plan"}),
        ]
        assert await fan_out(store, events, now=NOW, window=WINDOW) == 1
        assert await fan_out(store, events, now=NOW, window=WINDOW) == 0  # the relay retried: same deliveries
        [delivery] = await store.list_deliveries("shop-a", limit=10, after=None)
        assert (delivery.event_id, delivery.event_type, delivery.ordering_key) == (
            approved.id,
            "checkout.approved",
            "chk_1",
        )
        sent = json.loads(delivery.payload)
        assert sent == {
            "type": "checkout.approved",
            "id": approved.id,
            "timestamp": "2026-11-02T10:00:00.000000Z",
            "data": dict(approved.data),
        }
        assert "customer-sub" not in delivery.payload  # the shopper's identity stays with us

    asyncio.run(body())


def test_event_types_sent_to_merchants() -> None:
    assert webhook_type(_checkout_event("m", "c", EventType.CHECKOUT_CAPTURED)) == "checkout.captured"
    late = Event.new(EventType.INSTALLMENT_LATE, now=NOW, customer_id="c", data={})
    assert webhook_type(late) == "plan.installment_late"
    assert webhook_type(Event.new(EventType.PLAN_COMPLETED, now=NOW, customer_id="c", data={})) == "plan.completed"
    assert webhook_type(Event.new(EventType.PAYMENT_APPLIED, now=NOW, customer_id="c", data={})) is None


# -- the dispatcher against real receivers ------------------------------------------------------


class Harness:
    """A dispatcher on a SQLite store with a clock the test moves, against real HTTP receivers."""

    def __init__(
        self,
        store: SqliteStore,
        *,
        timeout: float = 2.0,
        strict: bool = False,
        per_merchant: int = 2,
        resolver: Resolver = system_resolver,
    ) -> None:
        self.store = store
        self.clock = FixedClock(NOW)
        self.connections = ReceiverConnections(per_receiver=per_merchant)
        self.resolver = resolver
        config = DispatchConfig(policy=FAST, timeout_seconds=timeout, per_merchant=per_merchant, strict_urls=strict)
        self.dispatcher = self.new_dispatcher(config)

    def new_dispatcher(self, config: DispatchConfig) -> Dispatcher:
        async def ids() -> list[str]:
            return [m.id for m in await self.store.list_merchants()]

        return Dispatcher(
            self.store,
            self.connections,
            self.clock,
            config,
            merchant_ids=ids,
            resolver=self.resolver,
            rng=random.Random(5),
        )

    async def rounds(self, count: int, *, step: timedelta = timedelta(seconds=5)) -> None:
        """``count`` rounds, each waiting for its attempts, the clock moved on after each."""
        for _ in range(count):
            await self.dispatcher.dispatch_once()
            await self.dispatcher.drain()
            self.clock.advance(step)

    async def aclose(self) -> None:
        await self.dispatcher.aclose()
        await self.connections.aclose()


def _run(store: SqliteStore, body: Callable[[Harness], Awaitable[None]], **kw: Any) -> None:
    async def main() -> None:
        harness = Harness(store, **kw)
        try:
            await body(harness)
        finally:
            await harness.aclose()

    asyncio.run(main())


def test_a_receiver_failing_three_times_gets_one_webhook_id_and_keeps_the_event_once(store: SqliteStore) -> None:
    with WebhookReceiver(SECRET_A, script=[500, 503, 502]) as receiver:

        async def body(h: Harness) -> None:
            await _merchant(store, "shop-a", receiver.url)
            event = _checkout_event("shop-a", "chk_1")
            await fan_out(store, [event], now=NOW, window=WINDOW)
            await h.rounds(6)
            requests = receiver.requests
            assert [r.answered for r in requests] == [500, 503, 502, 204]
            assert {r.webhook_id for r in requests} == {event.id}
            assert all(r.verified for r in requests)
            assert list(receiver.events) == [event.id]
            [delivery] = await store.list_deliveries("shop-a", limit=10, after=None)
            assert delivery.status is DeliveryStatus.DELIVERED
            assert [(a.number, a.status_code) for a in delivery.attempts] == [(1, 500), (2, 503), (3, 502), (4, 204)]

        _run(store, body)


def test_a_receiver_that_delivers_twice_keeps_the_event_once(store: SqliteStore) -> None:
    """At least once: after a crash mid-attempt the same event comes again, with the same id."""
    with WebhookReceiver(SECRET_A, script=[HANG], hang_seconds=0.5) as receiver:

        async def body(h: Harness) -> None:
            await _merchant(store, "shop-a", receiver.url)
            event = _checkout_event("shop-a", "chk_1")
            await fan_out(store, [event], now=NOW, window=WINDOW)
            assert await h.dispatcher.dispatch_once() == 1
            await asyncio.to_thread(receiver.wait_for, 1)
            await h.dispatcher.aclose()  # the process dies mid-attempt: nothing recorded
            [claimed] = await store.list_deliveries("shop-a", limit=1, after=None)
            assert (claimed.status, claimed.attempts) == (DeliveryStatus.PENDING, ())
            h.dispatcher = h.new_dispatcher(DispatchConfig(policy=FAST, timeout_seconds=2.0, strict_urls=False))
            await h.rounds(1)
            assert receiver.requests[1:] == []  # still leased
            h.clock.advance(DispatchConfig(policy=FAST, timeout_seconds=2.0).lease)
            await h.rounds(1)
            assert [r.webhook_id for r in await asyncio.to_thread(receiver.wait_for, 2)] == [event.id, event.id]
            assert list(receiver.events) == [event.id]

        _run(store, body)


def test_events_of_one_checkout_go_out_in_order(store: SqliteStore) -> None:
    first = _checkout_event("shop-a", "chk_1", EventType.CHECKOUT_AUTHORIZED, at=0)
    second = _checkout_event("shop-a", "chk_1", EventType.CHECKOUT_CAPTURED, at=1)
    other = _checkout_event("shop-a", "chk_2", EventType.CHECKOUT_APPROVED, at=2)
    with WebhookReceiver(SECRET_A, script_by_id={first.id: [500, 500]}) as receiver:

        async def body(h: Harness) -> None:
            await _merchant(store, "shop-a", receiver.url)
            await fan_out(store, [first, second, other], now=NOW, window=WINDOW)
            await h.rounds(6)
            order = [json.loads(r.body)["id"] for r in receiver.requests]
            # chk_1's capture waits for its authorization, however often that fails;
            # chk_2 is not held up by chk_1
            assert [i for i in order if i != other.id] == [first.id, first.id, first.id, second.id]
            assert order.index(other.id) < order.index(second.id)
            assert set(receiver.events) == {first.id, second.id, other.id}
            assert list(receiver.events).index(first.id) < list(receiver.events).index(second.id)

        _run(store, body, per_merchant=2)


def test_a_dead_receiver_does_not_delay_another_merchant(store: SqliteStore) -> None:
    with (
        WebhookReceiver(SECRET_A, then=HANG, hang_seconds=5.0) as dead,
        WebhookReceiver(SECRET_B) as alive,
    ):

        async def body(h: Harness) -> None:
            await _merchant(store, "shop-a", dead.url)
            await _merchant(store, "shop-b", alive.url, secret=SECRET_B)
            backlog = [_checkout_event("shop-a", f"chk_a{i}", at=i) for i in range(20)]
            theirs = _checkout_event("shop-b", "chk_b", at=30)
            await fan_out(store, [*backlog, theirs], now=NOW, window=WINDOW)
            started = time.monotonic()
            await h.dispatcher.dispatch_once()
            assert len(dead.requests) <= 2 and h.dispatcher.in_flight >= 2  # shop-a's two slots, still held
            [received] = await asyncio.to_thread(alive.wait_for, 1, 2.0)
            assert time.monotonic() - started < 1.5  # not after shop-a's timeouts
            assert received.webhook_id == theirs.id and received.verified
            assert len(dead.requests) <= 2  # shop-a is held to its own slots

        _run(store, body, timeout=3.0, per_merchant=2)


def test_in_aws_a_loopback_url_is_refused_at_delivery_time(store: SqliteStore) -> None:
    with WebhookReceiver(SECRET_A) as receiver:

        async def body(h: Harness) -> None:
            await _merchant(store, "shop-a", receiver.url)
            await fan_out(store, [_checkout_event("shop-a", "chk_1")], now=NOW, window=WINDOW)
            await h.rounds(1)
            [delivery] = await store.list_deliveries("shop-a", limit=1, after=None)
            assert [(a.status_code, a.error) for a in delivery.attempts] == [(None, "https_required")]
            assert receiver.requests == []

        _run(store, body, strict=True)


def test_a_receiver_down_for_the_whole_window_fails_the_delivery(store: SqliteStore) -> None:
    with WebhookReceiver(SECRET_A, then=500) as receiver:

        async def body(h: Harness) -> None:
            await _merchant(store, "shop-a", receiver.url)
            await fan_out(store, [_checkout_event("shop-a", "chk_1")], now=NOW, window=timedelta(seconds=20))
            await h.rounds(8, step=timedelta(seconds=4))
            [delivery] = await store.list_deliveries("shop-a", limit=1, after=None)
            assert delivery.status is DeliveryStatus.FAILED
            assert delivery.attempts[-1].attempted_at >= NOW + timedelta(seconds=20)
            assert len(receiver.requests) == len(delivery.attempts) >= 3

        _run(store, body)


class _HeadEndsMeanwhile:
    """The store, except that the first time the dispatcher finds the head of the checkout's
    queue still pending, the head's attempt ends before that answer arrives (as when a fast
    receiver answers while the dispatcher goes down its list)."""

    def __init__(self, inner: SqliteStore) -> None:
        self._inner = inner
        self.dispatcher: Dispatcher | None = None
        self.raced = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def first_pending(self, merchant_id: str, ordering_key: str) -> WebhookDelivery | None:
        head = await self._inner.first_pending(merchant_id, ordering_key)
        if not self.raced and self.dispatcher is not None and self.dispatcher.in_flight:
            self.raced = True
            await self.dispatcher.drain()  # delivered, and its successor found due already
        return head


def test_an_event_is_not_held_back_by_an_earlier_one_that_ended_meanwhile(store: SqliteStore) -> None:
    """The next event of a checkout goes at the next round, not after the earlier one's lease."""
    racing = _HeadEndsMeanwhile(store)
    with WebhookReceiver(SECRET_A) as receiver:

        async def body(h: Harness) -> None:
            await _merchant(store, "shop-a", receiver.url)
            first, second = _in_turn("shop-a", 2)
            # due one after the other (the queue orders equal times by id, which is random)
            await fan_out(store, [first], now=NOW, window=WINDOW)
            await fan_out(store, [second], now=NOW + timedelta(seconds=1), window=WINDOW)
            h.clock.advance(timedelta(seconds=1))
            h.store = racing  # type: ignore[assignment]
            h.dispatcher = h.new_dispatcher(DispatchConfig(policy=FAST, timeout_seconds=2.0, strict_urls=False))
            racing.dispatcher = h.dispatcher
            await h.dispatcher.dispatch_once()
            await h.dispatcher.drain()
            assert racing.raced and [r.webhook_id for r in receiver.requests] == [first.id]
            await h.dispatcher.dispatch_once()  # the same moment: nothing waits any more
            await h.dispatcher.drain()
            assert [r.webhook_id for r in receiver.wait_for(2)] == [first.id, second.id]

        _run(store, body)


# -- connections kept per receiver --------------------------------------------------------------


def _in_turn(merchant_id: str, count: int, *, at: int = 0) -> list[Event]:
    """Events of one checkout: sent one after the other, each once the one before has ended."""
    kinds = [EventType.CHECKOUT_APPROVED, EventType.CHECKOUT_AUTHORIZED, EventType.CHECKOUT_CAPTURED]
    return [_checkout_event(merchant_id, f"chk_{merchant_id}", kinds[i % 3], at=at + i) for i in range(count)]


def test_webhooks_to_one_receiver_reuse_its_connection(store: SqliteStore) -> None:
    """A new TCP connection (in AWS a TLS handshake) per webhook is not paid again and again."""
    with WebhookReceiver(SECRET_A, then=200, reply_body=b'{"received":true}') as receiver:

        async def body(h: Harness) -> None:
            await _merchant(store, "shop-a", receiver.url)
            await fan_out(store, _in_turn("shop-a", 3), now=NOW, window=WINDOW)
            await h.rounds(6)  # a round may find the next event deferred behind the one just sent
            requests = receiver.wait_for(3)
            assert [r.answered for r in requests] == [200, 200, 200]
            assert len({r.connection for r in requests}) == 1

        _run(store, body)


def test_two_host_names_at_one_address_never_share_a_connection(store: SqliteStore) -> None:
    """A connection is opened (and in AWS its certificate checked) for one host name: another
    merchant whose host resolves to the same address gets its own, never that one."""
    with WebhookReceiver(SECRET_A) as receiver:
        port = receiver.url.split(":")[2].split("/")[0]

        async def body(h: Harness) -> None:
            # two names of one loopback address (in AWS: two shops behind one CDN address)
            await _merchant(store, "shop-a", f"http://localhost:{port}/webhooks/bnpl")
            await _merchant(store, "shop-b", f"http://127.0.0.1:{port}/webhooks/bnpl")
            events = [e for pair in zip(_in_turn("shop-a", 3), _in_turn("shop-b", 3, at=10), strict=True) for e in pair]
            await fan_out(store, events, now=NOW, window=WINDOW)
            await h.rounds(6)
            requests = receiver.wait_for(6)
            by_host = {host: {r.connection for r in requests if r.host == host} for host in {r.host for r in requests}}
            assert set(by_host) == {f"localhost:{port}", f"127.0.0.1:{port}"}
            a, b = by_host.values()
            assert len(a) == len(b) == 1 and not a & b  # each kept its own, and only its own

        _run(store, body, resolver=_resolver("127.0.0.1"))


def test_a_long_answer_closes_its_connection_and_the_delivery_still_counts(store: SqliteStore) -> None:
    """The answer is read to keep the connection only up to a limit (one far longer cannot even
    arrive unread: the client stops reading the socket); the status decided already."""
    with WebhookReceiver(SECRET_A, then=200, reply_body=b"x" * (16 * DRAIN_LIMIT_BYTES)) as receiver:

        async def body(h: Harness) -> None:
            await _merchant(store, "shop-a", receiver.url)
            await fan_out(store, _in_turn("shop-a", 2), now=NOW, window=WINDOW)
            await h.rounds(4)
            requests = receiver.wait_for(2)
            assert len({r.connection for r in requests}) == 2
            deliveries = await store.list_deliveries("shop-a", limit=10, after=None)
            assert {d.status for d in deliveries} == {DeliveryStatus.DELIVERED}

        _run(store, body)


def test_over_tls_the_certificate_is_checked_against_the_merchants_host_name(tmp_path: Path) -> None:
    """The request goes to the checked address, and TLS checks the certificate against the host
    name of the merchant's URL (sent as SNI), not against the address."""
    ca, cert, key = tls_certificates(tmp_path, "localhost")
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    with WebhookReceiver(SECRET_A, tls=server) as receiver:
        pinned = receiver.url.replace("/webhooks/bnpl", "/")
        port = pinned.split(":")[2].rstrip("/")

        async def body() -> None:
            ours = ReceiverConnections(verify=ssl.create_default_context(cafile=str(ca)))
            system = ReceiverConnections()  # certifi's CAs: ours is not one of them
            try:
                named = Target(url=pinned, host_header=f"localhost:{port}", sni_hostname="localhost")
                assert await ours.post(named, b"{}", {}, time_limit=2.0) == 204
                other = Target(url=pinned, host_header=f"shop.example:{port}", sni_hostname="shop.example")
                with pytest.raises(CallFailed):
                    await ours.post(other, b"{}", {}, time_limit=2.0)  # a certificate for another name
                with pytest.raises(CallFailed):
                    await system.post(named, b"{}", {}, time_limit=2.0)  # an unknown CA
            finally:
                await ours.aclose()
                await system.aclose()

        asyncio.run(body())
        assert [r.host for r in receiver.requests] == [f"localhost:{port}"]


def test_receivers_beyond_the_limit_close_the_least_recently_used() -> None:
    with WebhookReceiver(SECRET_A) as receiver:
        pinned = receiver.url

        async def body() -> None:
            connections = ReceiverConnections(max_receivers=2)
            try:
                for host in ["a.test", "b.test", "a.test", "c.test"]:
                    target = Target(url=pinned, host_header=host, sni_hostname=None)
                    assert await connections.post(target, b"{}", {}, time_limit=2.0) == 204
                assert connections.receivers == 2  # b.test, the least recently used, was closed
            finally:
                await connections.aclose()

        asyncio.run(body())
        requests = receiver.wait_for(4)
        assert [r.host for r in requests] == ["a.test", "b.test", "a.test", "c.test"]
        assert requests[0].connection == requests[2].connection  # a.test's pool was kept


# -- helpers ------------------------------------------------------------------------------------


def _delivery(merchant: str, checkout: str) -> WebhookDelivery:
    return WebhookDelivery.new(
        event_id="0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
        merchant_id=merchant,
        event_type="checkout.approved",
        ordering_key=checkout,
        occurred_at=NOW,
        payload="{}",
        now=NOW,
        window=WINDOW,
    )


def _attempt(status: int | None, at: datetime) -> Attempt:
    return Attempt(0, at, 5, status, None, "http://127.0.0.1:1/hook")


# -- plan events ----------------------------------------------------------------------------------


def _outbox_types(db_path: str) -> list[str]:
    import sqlite3

    with sqlite3.connect(db_path) as conn:
        return [row[0] for row in conn.execute("SELECT type FROM outbox ORDER BY seq")]


def test_the_payment_that_pays_a_plan_off_raises_plan_completed_once(api: Any, settings: Any) -> None:
    approved = api.approved()
    plan = api.confirm(approved["id"]).json()
    assert api.pay(plan["id"], 7_000).status_code == 201
    assert "plan.completed" not in _outbox_types(settings.credit_db_path)
    assert api.pay(plan["id"], 8_000).status_code == 201
    types = _outbox_types(settings.credit_db_path)
    assert types.count("plan.completed") == 1 and types[-1] == "plan.completed"


class _PlanWorld:
    """Just enough of a store for fan-out of plan events: one plan made from one checkout."""

    def __init__(self, plan: Any, checkout: Any, merchant: Any) -> None:
        self.plan, self.checkout, self.merchant = plan, checkout, merchant
        self.added: list[WebhookDelivery] = []

    async def find_plan(self, plan_id: str) -> Any:
        return self.plan if plan_id == self.plan.terms.id else None

    async def checkout_by_application(self, application_id: str) -> Any:
        return self.checkout if application_id == self.plan.terms.application_id else None

    async def get_merchant(self, merchant_id: str) -> Any:
        return self.merchant if merchant_id == self.merchant.id else None

    async def add_deliveries(self, deliveries: Any) -> int:
        self.added += list(deliveries)
        return len(deliveries)


def test_plan_events_of_a_checkout_plan_go_to_its_merchant_without_the_shopper() -> None:
    from types import SimpleNamespace

    terms = SimpleNamespace(id="plan-1", application_id="app-1", customer_id="customer-sub")
    world = _PlanWorld(
        SimpleNamespace(terms=terms),
        SimpleNamespace(id="chk_9", merchant_id="shop-a", order_reference="order-7"),
        SimpleNamespace(id="shop-a", webhook_url="http://127.0.0.1:9/hook"),
    )
    late = Event.new(
        EventType.INSTALLMENT_LATE,
        now=NOW,
        customer_id="customer-sub",
        data={
            "planId": "plan-1",
            "sequence": 2,
            "dueDate": "2026-11-01",
            "lateFee": {"amount": 500, "currency": "EUR"},
        },
    )
    elsewhere = Event.new(
        EventType.INSTALLMENT_LATE, now=NOW, customer_id="c", data={"planId": "plan-2", "sequence": 1}
    )
    assert asyncio.run(fan_out(world, [late, elsewhere], now=NOW, window=WINDOW)) == 1  # type: ignore[arg-type]
    [delivery] = world.added
    assert (delivery.merchant_id, delivery.ordering_key, delivery.event_type) == (
        "shop-a",
        "chk_9",
        "plan.installment_late",
    )
    assert json.loads(delivery.payload)["data"] == {
        "merchantId": "shop-a",
        "checkoutId": "chk_9",
        "orderReference": "order-7",
        "planId": "plan-1",
        "sequence": 2,
        "dueDate": "2026-11-01",
        "lateFee": {"amount": 500, "currency": "EUR"},
    }
    assert "customer-sub" not in delivery.payload


# -- settings ------------------------------------------------------------------------------------


def test_in_aws_webhooks_are_retried_for_at_least_a_day() -> None:
    from bnpl_credit.settings import Settings
    from pydantic import ValidationError

    real = {
        "service_auth_keys": {"AKIAX": "real-secret"},
        "merchant_auth_keys": "AKIAM:real-merchant-secret:shop-1",
        "profile_verify_keys": "",  # no key: every application refused (fails closed)
    }
    assert Settings(bnpl_env="aws", **real).webhook_retry_window_seconds == 86_400  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="WEBHOOK_RETRY_WINDOW_SECONDS"):
        Settings(bnpl_env="aws", webhook_retry_window_seconds=3600, **real)  # type: ignore[arg-type]
    local = Settings(bnpl_env="test", webhook_retry_window_seconds=2, webhook_retry_schedule_seconds="0.1, 0.5")  # type: ignore[arg-type]
    assert local.webhook_retry_schedule_seconds == (0.1, 0.5)
    with pytest.raises(ValidationError, match="WEBHOOK_RETRY_SCHEDULE_SECONDS"):
        Settings(bnpl_env="test", webhook_retry_schedule_seconds="5,-1")  # type: ignore[arg-type]
