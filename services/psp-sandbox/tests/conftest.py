"""The sandbox PSP as a real process on a free port, with a webhook endpoint that records deliveries."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from bnpl_common.testing import ServiceProcess, free_port

API_KEY = "sk_test_sandbox_tests"
WEBHOOK_SECRET = "whsec_sandbox_tests"


class Receiver:
    """Webhook endpoint: answers 500 to the first ``fail_next`` deliveries, then keeps each one."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[bytes, dict[str, str]]] = []
        self.refused = 0
        self.fail_next = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with receiver.lock:
                    if receiver.fail_next > 0:
                        receiver.fail_next -= 1
                        receiver.refused += 1
                        status = 500
                    else:
                        receiver.deliveries.append((body, dict(self.headers.items())))
                        status = 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def events_about(self, object_id: str) -> list[dict[str, Any]]:
        with self.lock:
            events = [json.loads(body) for body, _ in self.deliveries]
        return [e for e in events if e["data"]["object"].get("id") == object_id]

    def wait_for(self, event_type: str, object_id: str, timeout: float = 15.0) -> tuple[bytes, dict[str, str]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for body, headers in self.deliveries:
                    event = json.loads(body)
                    if event["type"] == event_type and event["data"]["object"].get("id") == object_id:
                        return body, headers
            time.sleep(0.05)
        raise AssertionError(f"no {event_type} about {object_id} delivered")


@dataclass
class Sandbox:
    url: str
    data_dir: Path
    process: ServiceProcess
    receiver: Receiver
    webhook_secret: str = WEBHOOK_SECRET

    def post(self, path: str, data: dict[str, str] | None = None, *, key: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {API_KEY}"}
        if key:
            headers["Idempotency-Key"] = key
        return httpx.post(f"{self.url}{path}", data=data or {}, headers=headers, timeout=10)

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10)

    def page(self, intent: dict[str, Any], action: str, body: dict[str, Any]) -> httpx.Response:
        payload = {"client_secret": intent["client_secret"], **body}
        return httpx.post(f"{self.url}/setup/{intent['id']}/{action}", json=payload, timeout=10)

    def customer_with_card(self, number: str = "4242424242424242") -> tuple[str, str]:
        customer = self.post("/v1/customers").json()["id"]
        intent = self.post("/v1/setup_intents", {"customer": customer}).json()
        card = {"number": number, "exp_month": "12", "exp_year": "2034", "cvc": "123"}
        assert self.page(intent, "confirm", {"type": "card", "card": card}).json()["status"] == "succeeded"
        return customer, self.get(f"/v1/setup_intents/{intent['id']}").json()["payment_method"]


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    receiver = Receiver()
    data_dir = tmp_path_factory.mktemp("psp-sandbox")
    port = free_port()
    process = ServiceProcess(
        name="psp-sandbox",
        args=[sys.executable, "-m", "bnpl_psp_sandbox"],
        health_url=f"http://127.0.0.1:{port}/livez",
        env={
            "PSP_SANDBOX_PORT": str(port),
            "PSP_SANDBOX_DATA_DIR": str(data_dir),
            "PSP_SANDBOX_API_KEY": API_KEY,
            "PSP_SANDBOX_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "PSP_SANDBOX_WEBHOOK_URL": receiver.url,
            "PSP_SANDBOX_SEPA_SETTLE_SECONDS": "0.3",
            "PSP_SANDBOX_LOG_LEVEL": "DEBUG",  # the most the sandbox ever logs
        },
        log_path=data_dir / "sandbox.log",
    ).start()
    try:
        yield Sandbox(f"http://127.0.0.1:{port}", data_dir, process, receiver)
    finally:
        process.stop()
        receiver.server.shutdown()
