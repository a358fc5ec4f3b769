"""Test helpers for the PSP edge: a local server replaying recorded Stripe API exchanges (Stripe's
API is unreachable here), a webhook receiver, and the sandbox PSP as a real process."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import stripe
from bnpl_common.testing import ServiceProcess, free_port

TEST_API_KEY = "sk_test_recorded"
TEST_WEBHOOK_SECRET = "whsec_recorded_endpoint_secret"  # noqa: S105 - a test value


@dataclass
class Cassette:
    """Recorded exchanges in the order the adapter must make them, and recorded webhook events."""

    name: str
    exchanges: list[dict[str, Any]]
    webhooks: dict[str, dict[str, Any]]

    @classmethod
    def load(cls, path: Path) -> Cassette:
        data = json.loads(path.read_text())
        return cls(name=path.stem, exchanges=data["exchanges"], webhooks=data.get("webhooks", {}))


@dataclass
class _Replay:
    exchanges: list[dict[str, Any]] = field(default_factory=list)
    position: int = 0
    mismatches: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        with self.lock:
            if self.position >= len(self.exchanges):
                self.mismatches.append(f"unexpected {method} {path}: the recording has no more exchanges")
                return 500, {"error": {"type": "api_error", "message": "no recorded exchange left"}}
            recorded = self.exchanges[self.position]
            self.position += 1
        expected = recorded["request"]
        problems = []
        if (method, path) != (expected["method"], expected["path"]):
            problems.append(f"expected {expected['method']} {expected['path']}, got {method} {path}")
        if headers.get("authorization") != f"Bearer {TEST_API_KEY}":
            problems.append("the API key was not sent as a bearer token")
        if "idempotency_key" in expected and headers.get("idempotency-key") != expected["idempotency_key"]:
            problems.append(f"idempotency key {headers.get('idempotency-key')!r} != {expected['idempotency_key']!r}")
        sent = dict(parse_qsl(body.decode(), keep_blank_values=True))
        for name, value in expected.get("params", {}).items():
            if sent.get(name) != value:
                problems.append(f"param {name}={sent.get(name)!r}, recorded {value!r}")
        if problems:
            self.mismatches.append(f"exchange {self.position} of {path}: " + "; ".join(problems))
            return 400, {"error": {"type": "invalid_request_error", "message": "request does not match the recording"}}
        response = recorded["response"]
        return int(response["status"]), response["body"]


class RecordedStripe:
    """An HTTP server on 127.0.0.1 that answers the Stripe SDK with a cassette's recorded responses,
    checking that each request is the recorded one (method, path, parameters, idempotency key)."""

    def __init__(self) -> None:
        self._replay = _Replay()
        replay = self._replay

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, payload = replay.answer(self.command, self.path.split("?")[0], headers, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", "req_recorded")
                self.end_headers()
                self.wfile.write(data)

            do_GET = _serve
            do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="recorded-stripe", daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_port}"

    def play(self, cassette: Cassette) -> None:
        with self._replay.lock:
            self._replay.exchanges = list(cassette.exchanges)
            self._replay.position = 0
            self._replay.mismatches = []

    def respond_with(
        self,
        status: int,
        body: dict[str, Any],
        *,
        method: str,
        path: str,
        times: int = 1,
        idempotency_key: str | None = None,
    ) -> None:
        """Answer the next ``times`` requests with one response (errors, outages)."""
        request: dict[str, Any] = {"method": method, "path": path}
        if idempotency_key is not None:
            request["idempotency_key"] = idempotency_key
        self.play(Cassette("inline", [{"request": request, "response": {"status": status, "body": body}}] * times, {}))

    def verify(self) -> None:
        """Every recorded exchange was requested, in order, as recorded."""
        replay = self._replay
        assert not replay.mismatches, replay.mismatches
        assert replay.position == len(replay.exchanges), (
            f"{len(replay.exchanges) - replay.position} recorded exchanges were never requested"
        )

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def sign_stripe_webhook(payload: bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers of a webhook as Stripe sends it, signed with Stripe's own helper."""
    header = stripe.WebhookSignature.generate_signature_header(payload.decode(), secret, timestamp)
    return {"Content-Type": "application/json", "Stripe-Signature": header}


class WebhookReceiver:
    """A webhook endpoint on 127.0.0.1 that keeps every delivery (raw body and headers).

    ``fail_next`` deliveries are answered 500, to exercise the sender's retries.
    """

    def __init__(self) -> None:
        self.deliveries: list[tuple[bytes, dict[str, str]]] = []
        self.fail_next = 0
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with receiver._cond:
                    if receiver.fail_next > 0:
                        receiver.fail_next -= 1
                        status = 500
                    else:
                        receiver.deliveries.append((body, dict(self.headers.items())))
                        receiver._cond.notify_all()
                        status = 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook-receiver", daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_port}/webhooks/psp"

    def wait_for(self, event_type: str, object_id: str, timeout: float = 15.0) -> tuple[bytes, dict[str, str]]:
        """The first delivered event of ``event_type`` about ``object_id``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for body, headers in self.deliveries:
                    event = json.loads(body)
                    if event["type"] == event_type and event["data"]["object"].get("id") == object_id:
                        return body, headers
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [json.loads(b)["type"] for b, _ in self.deliveries]
                    raise AssertionError(f"no {event_type} for {object_id} within {timeout}s; got {seen}")
                self._cond.wait(remaining)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


@contextmanager
def sandbox_process(data_dir: Path, *, webhook_url: str | None = None, **env: str) -> Iterator[ServiceProcess]:
    """The sandbox PSP as a real process on a free port; stopped after. ``env``: more PSP_SANDBOX_ settings."""
    port = free_port()
    settings = {
        "PSP_SANDBOX_HOST": "127.0.0.1",
        "PSP_SANDBOX_PORT": str(port),
        "PSP_SANDBOX_DATA_DIR": str(data_dir),
        **({"PSP_SANDBOX_WEBHOOK_URL": webhook_url} if webhook_url else {}),
        **{f"PSP_SANDBOX_{k.upper()}": v for k, v in env.items()},
    }
    process = ServiceProcess(
        name="psp-sandbox",
        args=[sys.executable, "-m", "bnpl_psp_sandbox"],
        health_url=f"http://127.0.0.1:{port}/livez",
        env=settings,
        log_path=data_dir / "psp-sandbox.log",
    ).start()
    try:
        yield process
    finally:
        process.stop()


def sandbox_url(process: ServiceProcess) -> str:
    return process.health_url.removesuffix("/livez")
