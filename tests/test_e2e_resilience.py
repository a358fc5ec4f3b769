"""Restarts keep data; a failing or slow model never approves credit and never gives a 500."""

from __future__ import annotations

import socket
import threading
import time
import uuid

import pytest

from scripts.devstack import Stack
from tests.journey import APPLICATION, APPLY, ME, good_profile, order
from tests.test_e2e_journey import verified

pytestmark = pytest.mark.e2e


def test_data_survives_a_restart_of_every_process(stack: Stack, new_shopper) -> None:
    shopper = new_shopper()
    verified(shopper, stack, good_profile())
    app = shopper.ok(APPLY, {"input": order(), "key": uuid.uuid4().hex})["applyForCredit"]

    assert stack.cognito is not None
    stack.services["gateway"].stop()
    stack.services["credit"].stop()
    stack.services["user"].stop()
    stack.cognito.process.stop()
    stack.cognito.start()
    for name in ("user", "credit", "gateway"):
        stack.services[name].start()

    # The shopper can sign in again and is still the same customer.
    shopper.token = stack.cognito.access_token(shopper.email, "Passw0rd!e2e")
    me = shopper.ok(ME)["me"]
    assert me["id"] == shopper.sub and me["phoneVerified"] is True
    again = shopper.ok(APPLICATION, {"id": app["id"]})["application"]
    assert again["status"] == app["status"] and again["offer"] == app["offer"]


class _Blackhole:
    """A TCP server that accepts connections and never answers: the slowest model there is."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)

    def close(self) -> None:
        for conn in self.conns:
            conn.close()
        self.sock.close()


def _with_model_url(stack: Stack, url: str) -> None:
    stack.services["credit"].stop()
    stack.services["credit"].env["MODEL_URL"] = url
    stack.services["credit"].start()


def test_model_down_or_slow_gives_referred_never_approved(stack: Stack, new_shopper) -> None:
    shopper = new_shopper()
    verified(shopper, stack, good_profile())
    original = stack.services["credit"].env["MODEL_URL"]
    hole = _Blackhole()
    try:
        for url in (f"http://127.0.0.1:{hole.port}", "http://127.0.0.1:9"):  # slow, then refused
            _with_model_url(stack, url)
            started = time.monotonic()
            response = shopper.gql(APPLY, {"input": order(), "key": uuid.uuid4().hex})
            elapsed = time.monotonic() - started
            assert response.status_code == 200
            body = response.json()
            assert not body.get("errors"), body
            app = body["data"]["applyForCredit"]
            assert app["status"] == "REFERRED", app
            assert app["offer"] is None
            assert [r["code"] for r in app["reasons"]] == ["SCORER_UNAVAILABLE"]
            assert elapsed < 5.0, f"decision took {elapsed:.1f}s with the model at {url}"
    finally:
        hole.close()
        _with_model_url(stack, original)
    ok = shopper.ok(APPLY, {"input": order(), "key": uuid.uuid4().hex})["applyForCredit"]
    assert ok["status"] == "APPROVED"
