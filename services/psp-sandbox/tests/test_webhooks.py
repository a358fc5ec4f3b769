"""Webhooks: Stripe's signature scheme, delivered in order, retried until the endpoint takes them."""

from __future__ import annotations

import hashlib
import hmac
import json

from bnpl_psp_sandbox.webhooks import backoff_seconds, signature_header


def verify(body: bytes, header: str, secret: str) -> bool:
    """Stripe's documented check, written out: v1 = HMAC-SHA256(secret, "<t>.<body>")."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


def test_signature_header_is_stripes_scheme() -> None:
    header = signature_header('{"id": "evt_1"}', "whsec_x", timestamp=1700000000)
    assert header.startswith("t=1700000000,v1=") and verify(b'{"id": "evt_1"}', header, "whsec_x")
    assert not verify(b'{"id": "evt_2"}', header, "whsec_x")
    assert [backoff_seconds(n) for n in (0, 1, 5, 10)] == [1, 2, 32, 60]


def test_events_are_signed_and_retried_until_delivered(sandbox) -> None:
    sandbox.receiver.fail_next = 2
    customer, pm = sandbox.customer_with_card()
    params = {"amount": "1000", "currency": "eur", "customer": customer, "payment_method": pm}
    charge = sandbox.post("/v1/payment_intents", {**params, "confirm": "true", "off_session": "true"}).json()
    body, headers = sandbox.receiver.wait_for("payment_intent.succeeded", charge["id"], timeout=20)
    assert sandbox.receiver.refused >= 2
    assert verify(body, headers["Stripe-Signature"], sandbox.webhook_secret)
    event = json.loads(body)
    assert event["object"] == "event" and event["request"]["idempotency_key"] is None
    assert event["data"]["object"]["status"] == "succeeded"
    kinds = [e["type"] for e in sandbox.receiver.events_about(charge["id"])]
    assert kinds.index("payment_intent.created") < kinds.index("payment_intent.succeeded")
