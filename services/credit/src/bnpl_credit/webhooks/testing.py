"""A webhook receiver for tests: a real HTTP server in a thread on a free port, that answers
from a script (status codes, or ``HANG`` to answer only after a long pause), verifies every
request with ``standardwebhooks`` as a merchant would, and keeps each event once (deduped on
``webhook-id``). It keeps connections open (HTTP/1.1) as a merchant's web server does, and
records which connection each request came on. With ``tls`` (a server context, see
:func:`tls_certificates`) it answers https."""

from __future__ import annotations

import datetime
import json
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

HANG = -1  # script entry: answer 200 only after ``hang_seconds``


@dataclass(frozen=True, slots=True)
class Received:
    webhook_id: str
    timestamp: str
    signature: str
    body: str
    verified: bool
    answered: int
    at: float  # time.monotonic()
    connection: int = 0  # the sender's port: requests on one connection share it
    host: str = ""  # the Host header


class WebhookReceiver:
    """``with WebhookReceiver(secret, script=[500, 500, 500]) as r: ... r.url``; after the
    script, every request gets ``then``."""

    def __init__(
        self,
        secret: str | None = None,
        *,
        script: Iterable[int] = (),
        script_by_id: dict[str, list[int]] | None = None,
        then: int = 204,
        hang_seconds: float = 30.0,
        path: str = "/webhooks/bnpl",
        reply_body: bytes = b"",
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.secret = secret
        self._script = list(script)
        self._by_id = {k: list(v) for k, v in (script_by_id or {}).items()}  # answers for one webhook-id first
        self._then = then
        self._hang = hang_seconds
        self._path = path
        self._reply = reply_body
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.requests: list[Received] = []
        self.events: dict[str, dict[str, Any]] = {}  # webhook-id -> payload, kept once
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._scheme = "https" if tls is not None else "http"
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"{self._scheme}://127.0.0.1:{self._server.server_address[1]}{self._path}"

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    def _next_answer(self, webhook_id: str) -> int:
        with self._lock:
            own = self._by_id.get(webhook_id)
            if own:
                return own.pop(0)
            return self._script.pop(0) if self._script else self._then

    def _record(self, headers: Any, body: str, answered: int, connection: int) -> None:
        verified = False
        payload: dict[str, Any] | None = None
        if self.secret is not None:
            try:
                payload = Webhook(self.secret).verify(body, dict(headers.items()))
                verified = True
            except WebhookVerificationError:
                verified = False
        webhook_id = headers.get("webhook-id", "")
        with self._lock:
            self.requests.append(
                Received(
                    webhook_id,
                    headers.get("webhook-timestamp", ""),
                    headers.get("webhook-signature", ""),
                    body,
                    verified,
                    answered,
                    time.monotonic(),
                    connection,
                    headers.get("host", ""),
                )
            )
            if verified and 200 <= answered < 300 and webhook_id not in self.events:
                self.events[webhook_id] = payload if payload is not None else json.loads(body)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # connections kept between requests

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode()
                answer = receiver._next_answer(self.headers.get("webhook-id", ""))
                if answer == HANG:
                    # on arrival: the test sees it in flight
                    receiver._record(self.headers, body, HANG, self.client_address[1])
                    receiver._stop.wait(receiver._hang)
                    answer = 200
                else:
                    receiver._record(self.headers, body, answer, self.client_address[1])
                try:
                    reply = b"" if answer in (204, 304) else receiver._reply  # no body with these
                    self.send_response(answer)
                    self.send_header("content-length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                except OSError:
                    pass  # the sender gave up (timeout)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        return Handler

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The requests once there are at least ``count`` (else AssertionError)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} webhook requests, got {len(self.requests)}")


def tls_certificates(directory: Path, host: str = "localhost") -> tuple[Path, Path, Path]:
    """A private CA and a certificate for ``host`` signed by it, as PEM files: (ca, cert, key)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = (directory / "ca.pem", directory / "cert.pem", directory / "key.pem")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths
