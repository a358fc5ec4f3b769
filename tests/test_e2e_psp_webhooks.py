"""The PSP's signed webhooks, end to end: the sandbox PSP as a process posts its events to the
credit service's ``POST /v1/psp/webhooks`` (``PSP_SANDBOX_WEBHOOK_URL``, set by the dev stack), as
Stripe does in AWS. A SEPA debit charged on its due date is ``processing``; the sandbox settles it
a second later and its ``payment_intent.succeeded`` webhook settles the installment long before the
scheduler's next run (every 15 s here). A replayed event is applied once; a forged one is refused."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from bnpl_credit.psp.testing import sign_stripe_webhook

from scripts.devstack import Stack
from tests.conftest import Shopper, free_ports, running
from tests.journey import COMPLETE_CARD_SETUP
from tests.test_e2e_payments import DAY, confirmed_and_shipped, installment, onboard, psp_events

pytestmark = pytest.mark.e2e

SANDBOX_WEBHOOK_SECRET = "whsec_sandbox_local_only"  # the sandbox's public local placeholder
SCHEDULER_INTERVAL = 15.0

START_SEPA_SETUP = """
mutation StartSepa($returnUrl: String!) {
  startPaymentMethodSetup(returnUrl: $returnUrl, method: SEPA_DEBIT) { setupId pageUrl clientSecret } }"""


@pytest.fixture(scope="module")
def clock_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clock") / "offset-seconds"
    path.write_text("0")
    return path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, clock_file: Path) -> Iterator[Stack]:
    """Its own stack: a slow scheduler, so what settles a debit quickly is the webhook."""
    env = {
        "SCORER_TIMEOUT_SECONDS": "1.5",
        "CLOCK_OFFSET_FILE": str(clock_file),
        "COLLECTION_INTERVAL_SECONDS": str(SCHEDULER_INTERVAL),
        "PSP_SANDBOX_SEPA_SETTLE_SECONDS": "1",
    }
    stack = Stack(
        data_dir=tmp_path_factory.mktemp("psp-webhooks"), ports=free_ports(), extra_env=env, demo_merchant=True
    )
    with running(stack):
        yield stack


@pytest.fixture
def travel(clock_file: Path) -> Iterator[Callable[[float], None]]:
    def to(days: float) -> None:
        clock_file.write_text(str(int(days * DAY)))

    yield to
    clock_file.write_text("0")


def wait_for(check: Callable[[], Any], what: str, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def add_sepa_mandate(shopper: Shopper) -> dict[str, Any]:
    """A SEPA Direct Debit mandate, saved as a card is (the sandbox's page, then complete)."""
    setup = shopper.ok(START_SEPA_SETUP, {"returnUrl": f"{shopper.gateway}/checkout/"})["startPaymentMethodSetup"]
    page = urlsplit(setup["pageUrl"])
    mandate = {
        "client_secret": setup["clientSecret"],
        "type": "sepa_debit",
        "sepa_debit": {"iban": "DE89 3704 0044 0532 0130 00"},
        "billing_details": {"name": "Ana Ruiz", "email": shopper.email},
    }
    entered = httpx.post(f"{page.scheme}://{page.netloc}/setup/{setup['setupId']}/confirm", json=mandate, timeout=10)
    assert entered.status_code == 200 and entered.json()["status"] == "succeeded", entered.text
    method: dict[str, Any] = shopper.ok(COMPLETE_CARD_SETUP, {"id": setup["setupId"]})["completePaymentMethodSetup"]
    return method


def event_for(stack: Stack, kind: str, key: str) -> dict[str, Any] | None:
    for event in psp_events(stack, kind):
        if (event.get("request") or {}).get("idempotency_key") == key:
            return event
    return None


def test_a_sepa_debit_is_settled_by_the_psps_webhook_once(stack: Stack, new_shopper, travel) -> None:
    shopper = new_shopper()
    onboard(shopper, stack)
    plan = confirmed_and_shipped(shopper)  # the first part on the card
    method = add_sepa_mandate(shopper)
    assert method["type"] == "sepa_debit" and method["last4"] == "3000" and method["expMonth"] is None
    due = date.fromisoformat(plan["installments"][1]["dueDate"])
    travel((due - date.fromisoformat(plan["installments"][0]["dueDate"])).days)
    key = f"installment-{plan['id']}-2"
    debit = wait_for(lambda: event_for(stack, "payment_intent.processing", key), "the debit", SCHEDULER_INTERVAL + 10)
    seen = time.monotonic()
    wait_for(lambda: installment(shopper, plan["id"], 2)["status"] == "PAID", "the webhook", SCHEDULER_INTERVAL / 2)
    assert time.monotonic() - seen < SCHEDULER_INTERVAL  # settled before the scheduler looked again
    paid = shopper.ok("query P($id: ID!) { plan(id: $id) { amountPaid { amount } } }", {"id": plan["id"]})
    intent_id = debit["data"]["object"]["id"]
    settled = next(e for e in psp_events(stack, "payment_intent.succeeded") if e["data"]["object"]["id"] == intent_id)
    webhook = f"{stack.url('credit')}/v1/psp/webhooks"

    payload = json.dumps(settled).encode()
    replayed = httpx.post(webhook, content=payload, headers=sign_stripe_webhook(payload, SANDBOX_WEBHOOK_SECRET))
    assert replayed.status_code == 200, replayed.text
    assert replayed.json() == {"received": True, "eventId": settled["id"], "outcome": "DUPLICATE"}

    forged = {**settled, "id": f"evt_{uuid.uuid4().hex}"}
    body = json.dumps(forged).encode()
    for headers in (sign_stripe_webhook(body, "whsec_someone_else"), {"Content-Type": "application/json"}):
        refused = httpx.post(webhook, content=body, headers=headers)
        assert refused.status_code == 400 and refused.json()["error"]["type"] == "InvalidWebhookSignature"

    again = shopper.ok("query P($id: ID!) { plan(id: $id) { amountPaid { amount } } }", {"id": plan["id"]})
    assert again == paid and paid["plan"]["amountPaid"]["amount"] == 10_000  # applied once
    debits = [e for e in psp_events(stack, "payment_intent.processing") if e["data"]["object"]["id"] == intent_id]
    assert len(debits) == 1  # one debit for the installment
