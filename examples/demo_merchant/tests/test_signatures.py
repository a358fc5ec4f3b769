"""The shop's checks of what the platform signs: a valid return or webhook passes; a forged,
altered, stale or replayed one is refused."""

from __future__ import annotations

import base64
import json
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from bnpl_demo_merchant.app import create_app, parse_amount
from bnpl_demo_merchant.settings import Settings
from bnpl_demo_merchant.signatures import SignatureRefused, return_payload, verify_return, verify_webhook
from bnpl_demo_merchant.store import ShopStore
from fastapi.testclient import TestClient
from standardwebhooks import Webhook

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
OTHER = "whsec_" + base64.b64encode(b"x" * 32).decode()


def signed_return(checkout_id: str, outcome: str, *, secret: str = SECRET, at: float | None = None) -> dict[str, str]:
    webhook_id = f"ret_{checkout_id}_{outcome}"
    when = datetime.fromtimestamp(at if at is not None else time.time(), tz=UTC)
    signature = Webhook(secret).sign(webhook_id, when, return_payload(checkout_id, outcome))
    return {
        "checkoutId": checkout_id,
        "outcome": outcome,
        "webhookId": webhook_id,
        "timestamp": str(int(when.timestamp())),
        "signature": signature,
    }


def test_a_signed_return_is_accepted() -> None:
    signed = verify_return(SECRET, signed_return("chk_1", "AUTHORIZED"))
    assert (signed.checkout_id, signed.outcome) == ("chk_1", "AUTHORIZED")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: {**p, "outcome": "DECLINED"},  # the shopper edits the outcome
        lambda p: {**p, "checkoutId": "chk_2", "webhookId": "ret_chk_2_AUTHORIZED"},  # another checkout
        lambda p: {**p, "signature": "v1," + base64.b64encode(b"0" * 32).decode()},
        lambda p: {**p, "signature": "not-a-signature"},
        lambda p: {**p, "timestamp": str(int(p["timestamp"]) - 3600)},
        lambda p: {k: v for k, v in p.items() if k != "signature"},
    ],
)
def test_an_altered_return_is_refused(tamper) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SignatureRefused):
        verify_return(SECRET, tamper(signed_return("chk_1", "AUTHORIZED")))


def test_a_return_signed_with_another_key_or_too_old_is_refused() -> None:
    with pytest.raises(SignatureRefused):
        verify_return(SECRET, signed_return("chk_1", "AUTHORIZED", secret=OTHER))
    with pytest.raises(SignatureRefused, match="too old"):
        verify_return(SECRET, signed_return("chk_1", "AUTHORIZED", at=time.time() - 600))


def test_a_webhook_is_verified_over_its_raw_body() -> None:
    body = json.dumps({"type": "checkout.captured", "data": {"checkoutId": "chk_1"}}).encode()
    now = datetime.now(UTC)
    headers = {"webhook-id": "evt_1", "webhook-timestamp": str(int(now.timestamp()))}
    headers["webhook-signature"] = Webhook(SECRET).sign("evt_1", now, body.decode())
    assert verify_webhook(SECRET, body, headers)["type"] == "checkout.captured"
    with pytest.raises(SignatureRefused):
        verify_webhook(SECRET, body.replace(b"captured", b"refunded"), headers)


def test_returns_are_consumed_once_and_webhooks_kept_once(tmp_path: Path) -> None:
    store = ShopStore(tmp_path / "shop.sqlite3")
    assert store.consume_return("ret_chk_1_AUTHORIZED", "chk_1")
    assert not store.consume_return("ret_chk_1_AUTHORIZED", "chk_1")
    assert store.record_webhook(webhook_id="evt_1", type="checkout.captured", checkout_id="chk_1", payload=b"{}")
    assert not store.record_webhook(webhook_id="evt_1", type="checkout.captured", checkout_id="chk_1", payload=b"{}")
    assert [w.webhook_id for w in store.webhooks("chk_1")] == ["evt_1"]


AMOUNTS = [("12.5", 1250), ("249.00", 24900), ("3", 300), ("0", None), ("1.234", None), ("-1", None), ("", None)]


@pytest.mark.parametrize(("text", "minor"), AMOUNTS)
def test_amounts_typed_in_the_back_office(text: str, minor: int | None) -> None:
    assert parse_amount(text) == minor


@pytest.fixture
def client(tmp_path: Path):  # type: ignore[no-untyped-def]
    creds = tmp_path / "local-merchants.json"
    entry = {"accessKeyId": "AK", "secretAccessKey": secrets.token_hex(8), "webhookSecret": SECRET}
    creds.write_text(json.dumps({"demo-shop": entry, "demo-books": {**entry, "webhookSecret": OTHER}}))
    settings = Settings(credentials_file=creds, data_dir=tmp_path / "shop", api_url="http://127.0.0.1:9")
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_the_webhook_endpoint_keeps_an_event_once_and_refuses_a_forgery(client: TestClient) -> None:
    body = json.dumps(
        {"type": "checkout.authorized", "id": "evt_9", "data": {"merchantId": "demo-shop", "checkoutId": "chk_9"}}
    )
    now = datetime.now(UTC)
    headers = {
        "webhook-id": "evt_9",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(SECRET).sign("evt_9", now, body),
        "content-type": "application/json",
    }
    assert client.post("/webhooks/bnpl", content=body, headers=headers).status_code == 204
    assert client.post("/webhooks/bnpl", content=body, headers=headers).status_code == 204  # a redelivery
    forged = {**headers, "webhook-signature": Webhook(OTHER).sign("evt_9", now, body)}
    assert client.post("/webhooks/bnpl", content=body, headers=forged).status_code == 400
    # demo-books has its own secret: demo-shop's signature is not valid there
    assert client.post("/books/webhooks/bnpl", content=body, headers=headers).status_code == 400


def test_a_forged_return_is_shown_as_refused_before_anything_is_read(client: TestClient) -> None:
    forged = signed_return("chk_1", "AUTHORIZED", secret=OTHER)
    page = client.get("/return", params=forged)
    assert page.status_code == 400
    assert "This return was refused" in page.text
    assert "content-security-policy" in page.headers
    unknown = client.get("/return", params=signed_return("chk_unknown", "AUTHORIZED"))
    assert unknown.status_code == 400 and "did not start" in unknown.text


def test_pages_render_with_strict_headers(client: TestClient) -> None:
    home = client.get("/")
    assert home.status_code == 200 and "Espresso machine" in home.text and "<script" not in home.text
    assert "script-src" not in home.headers["content-security-policy"]  # default-src 'none': no script at all
    books = client.get("/books/")
    assert books.status_code == 200 and "Demo Books" in books.text and "£75.00" in books.text
    assert client.get("/orders/NOPE-1").status_code == 404
