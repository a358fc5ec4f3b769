"""Webhooks end to end against the real processes: merchants' checkout sessions expire (the
credit service's clock moved through ``CLOCK_OFFSET_FILE``), the outbox fans the
``checkout.expired`` events out, and the dispatcher POSTs them to real receivers (HTTP servers
in this process, on free ports) that verify them with ``standardwebhooks``:

- a receiver that fails three times and then answers gets the same ``webhook-id`` each time
  and keeps the event once;
- a dead receiver (it answers only after the timeout) of one merchant does not delay another
  merchant's delivery;
- the deliveries listing shows each merchant its own attempts, another merchant's delivery is a
  404, and a redelivery sends the event again with the same id (idempotent on its key).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from bnpl_common.testing import free_port
from bnpl_credit.markets.catalog import load_catalog
from bnpl_credit.merchants import registry
from bnpl_credit.storage.sqlite import SqliteStore
from bnpl_credit.testing import MerchantClient, checkout_body
from bnpl_credit.webhooks.testing import HANG, WebhookReceiver

from scripts.devstack import Ports, Stack

pytestmark = pytest.mark.e2e

SESSION_TTL_SECONDS = 60 * 60  # CHECKOUT_SESSION_TTL_MINUTES' default: OPEN sessions expire after it
ORIGIN = "http://127.0.0.1:8100"


@pytest.fixture(scope="module")
def clock_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clock") / "offset-seconds"
    path.write_text("0")
    return path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, clock_file: Path) -> Iterator[Stack]:
    """This module's own stack: quick sweeps, relay and dispatch rounds; retries in fractions of a second."""
    data_dir = tmp_path_factory.mktemp("webhooks-stack")
    ports = Ports(gateway=free_port(), user=free_port(), credit=free_port(), model=free_port(), cognito=free_port())
    env = {
        "CLOCK_OFFSET_FILE": str(clock_file),
        "SWEEP_INTERVAL_SECONDS": "0.2",
        "RELAY_INTERVAL_SECONDS": "0.1",
        "WEBHOOK_DISPATCH_INTERVAL_SECONDS": "0.1",
        "WEBHOOK_RETRY_SCHEDULE_SECONDS": "0.2,0.4",
        "WEBHOOK_TIMEOUT_SECONDS": "2",
        "WEBHOOK_CONCURRENCY_PER_MERCHANT": "2",
    }
    stack = Stack(data_dir=data_dir, ports=ports, extra_env=env)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


def register(stack: Stack, merchant_id: str, webhook_url: str) -> tuple[MerchantClient, str]:
    """A merchant in the running service's registry (as ``python -m bnpl_credit.merchants create``
    does): a client signing with its key, and its webhook secret."""

    async def create() -> Any:
        store = SqliteStore(stack.data_dir / "credit.sqlite3")
        return await registry.create_merchant(
            store,
            load_catalog(),
            merchant_id=merchant_id,
            display_name=merchant_id,
            market="EU",
            currency="EUR",
            origins=[ORIGIN],
            webhook_url=webhook_url,
            now=_now(),
            local=True,
        )

    # in a thread of its own: another test's driver may hold an event loop in this one
    with ThreadPoolExecutor(1) as pool:
        merchant = pool.submit(lambda: asyncio.run(create())).result()
    key = merchant.keys[0]
    credentials = {"accessKeyId": key.access_key_id, "secretAccessKey": key.secret_access_key}
    return MerchantClient(stack.url("credit"), credentials), merchant.webhook_secret


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def open_checkout(merchant: MerchantClient) -> str:
    response = merchant.create_checkout(checkout_body(origin=ORIGIN))
    assert response.status_code == 201, response.text
    checkout: dict[str, Any] = response.json()
    assert checkout["status"] == "OPEN"
    return str(checkout["id"])


def deliveries(merchant: MerchantClient) -> list[dict[str, Any]]:
    response = merchant.get("/v1/merchant/webhook-deliveries", limit=50)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def wait_until(check: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def test_webhooks_retried_in_order_isolated_listed_and_redelivered(stack: Stack, clock_file: Path) -> None:
    suffix = uuid.uuid4().hex[:6]
    with (
        WebhookReceiver(script=[500, 502, 503]) as flaky,
        WebhookReceiver(then=HANG, hang_seconds=8.0) as dead,
        WebhookReceiver() as healthy,
    ):
        shop_a, secret_a = register(stack, f"shop-a-{suffix}", flaky.url)
        shop_dead, secret_dead = register(
            stack, f"dead-shop-{suffix}", dead.url
        )  # listed first: dispatched before shop-b
        shop_b, secret_b = register(stack, f"shop-b-{suffix}", healthy.url)
        flaky.secret, dead.secret, healthy.secret = secret_a, secret_dead, secret_b

        checkout_a = open_checkout(shop_a)
        for _ in range(6):  # a backlog for the dead receiver, due at the same moment as shop-b's event
            open_checkout(shop_dead)
        checkout_b = open_checkout(shop_b)

        clock_file.write_text(str(SESSION_TTL_SECONDS + 60))  # every OPEN session expires at the next sweep
        try:
            expired_at = time.monotonic()
            [received_b] = healthy.wait_for(1, timeout=10.0)
            # shop-b's event arrives while shop-dead's receiver holds its attempts for seconds
            assert received_b.at - expired_at < 5.0
            assert wait_until(lambda: len(dead.requests) >= 1)
            assert received_b.at < dead.requests[0].at + 2.0  # not queued behind the dead receiver's timeout
            assert received_b.verified
            [event_b] = healthy.events.values()
            assert (event_b["type"], event_b["data"]["checkoutId"]) == ("checkout.expired", checkout_b)
            assert event_b["data"]["checkout"]["status"] == "EXPIRED"

            # the flaky receiver: three failures, then a 2xx; one webhook-id throughout, the event once
            attempts = flaky.wait_for(4, timeout=15.0)
            assert [r.answered for r in attempts] == [500, 502, 503, 204]
            assert len({r.webhook_id for r in attempts}) == 1
            assert all(r.verified for r in attempts)
            [(webhook_id, event_a)] = flaky.events.items()
            assert event_a["id"] == webhook_id and event_a["data"]["checkoutId"] == checkout_a

            # each merchant lists its own deliveries, with every attempt
            listed = wait_until(lambda: [d for d in deliveries(shop_a) if d["status"] == "DELIVERED"])
            [delivery] = listed
            assert [len(deliveries(shop_a))] == [1]
            assert (delivery["eventId"], delivery["eventType"], delivery["checkoutId"]) == (
                webhook_id,
                "checkout.expired",
                checkout_a,
            )
            assert [a["statusCode"] for a in delivery["attempts"]] == [500, 502, 503, 204]
            assert all(a["attemptedAt"] for a in delivery["attempts"])
            assert [d["checkoutId"] for d in deliveries(shop_b)] == [checkout_b]
            assert {d["status"] for d in deliveries(shop_dead)} == {"PENDING"}  # still being retried

            # the failures are counted per merchant on the credit service's /metrics (issue 15)
            metrics = httpx.get(f"{stack.url('credit')}/metrics", timeout=10).text
            failed = f'bnpl_webhook_delivery_failures_total{{merchant="shop-a-{suffix}"}} 3.0'
            assert failed in metrics, [line for line in metrics.splitlines() if "webhook" in line][:20]
            assert f'bnpl_webhook_deliveries_total{{merchant="shop-b-{suffix}",result="delivered"}}' in metrics

            # another merchant's delivery does not exist for shop-b
            stolen = shop_b.post(f"/v1/merchant/webhook-deliveries/{delivery['id']}/redeliver", {})
            assert stolen.status_code == 404, stolen.text

            # a redelivery sends it again, same id; the same key again sends nothing more
            key = f"redeliver-{uuid.uuid4().hex}"
            first = shop_a.post(f"/v1/merchant/webhook-deliveries/{delivery['id']}/redeliver", {}, key=key)
            assert first.status_code == 202, first.text
            assert (first.json()["id"], first.json()["status"]) == (delivery["id"], "PENDING")
            again = flaky.wait_for(5, timeout=10.0)
            assert again[-1].webhook_id == webhook_id and again[-1].verified
            retry = shop_a.post(f"/v1/merchant/webhook-deliveries/{delivery['id']}/redeliver", {}, key=key)
            assert (retry.status_code, retry.json()) == (202, first.json())
            time.sleep(1.0)
            assert len(flaky.requests) == 5
            assert list(flaky.events) == [webhook_id]  # deduped on webhook-id by the receiver
            redelivered = wait_until(lambda: [d for d in deliveries(shop_a) if len(d["attempts"]) == 5])
            assert redelivered[0]["status"] == "DELIVERED"
            assert redelivered[0]["attempts"][-1]["trigger"] == "REDELIVERY"
        finally:
            clock_file.write_text("0")


def test_a_checkout_from_approval_to_a_paid_off_plan_reaches_the_merchant_in_order(
    stack: Stack, new_shopper: Any
) -> None:
    """A shopper applies with the session's token, confirms; the merchant captures; the shopper
    pays the rest: the merchant's receiver gets approved, authorized, captured and completed, in
    that order, each verified, each once."""
    from tests.test_e2e_merchants import accepted_document, credit_as_shopper, shopper_apply

    with WebhookReceiver() as receiver:
        shop, secret = register(stack, f"shop-journey-{uuid.uuid4().hex[:6]}", receiver.url)
        receiver.secret = secret
        shopper = new_shopper()
        created = shop.create_checkout(checkout_body(20_000, origin=ORIGIN))
        assert created.status_code == 201, created.text
        session = created.json()
        applied = shopper_apply(stack, shopper, session["checkoutToken"])
        assert applied.status_code == 201 and applied.json()["status"] == "APPROVED", applied.text
        confirmed = credit_as_shopper(
            stack,
            shopper,
            "POST",
            f"/v1/applications/{applied.json()['id']}/confirm",
            headers={"Idempotency-Key": uuid.uuid4().hex},
            json=accepted_document(stack, shopper, applied.json()["id"]),
        )
        assert confirmed.status_code == 201, confirmed.text
        captured = shop.capture(session["id"], 20_000, "EUR")
        assert captured.status_code in (200, 201), captured.text
        plan_id = confirmed.json()["id"]
        plan = credit_as_shopper(stack, shopper, "GET", f"/v1/plans/{plan_id}").json()
        owed = plan["amountOutstanding"]
        paid = credit_as_shopper(
            stack,
            shopper,
            "POST",
            f"/v1/plans/{plan_id}/payments",
            json={"amount": owed},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert paid.status_code == 201, paid.text

        expected = ["checkout.approved", "checkout.authorized", "checkout.captured", "plan.completed"]
        receiver.wait_for(len(expected), timeout=15.0)
        assert wait_until(lambda: len(receiver.events) == len(expected))
        received = list(receiver.events.values())
        assert [e["type"] for e in received] == expected
        assert {e["data"]["checkoutId"] for e in received} == {session["id"]}
        assert all(r.verified for r in receiver.requests)
        completed = received[-1]["data"]
        assert (completed["planId"], completed["orderReference"]) == (plan_id, session["orderReference"])
        assert shopper.sub not in str(received)  # the shopper's identity is not the merchant's to know
