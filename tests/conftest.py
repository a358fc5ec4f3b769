"""End-to-end fixtures: the real platform as processes on free local ports."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from bnpl_common.testing import free_port
from bnpl_user.testing import last_code

from scripts.devstack import Ports, Stack
from tests.journey import CARD_OK, add_card, merchants_of

PASSWORD = "Passw0rd!e2e"


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("stack-data")
    # The scheduler collects due installments once an hour here (tests/test_e2e_payments.py runs
    # it every half second on its own stack): tests that move the clock decide what is paid.
    env = {"SCORER_TIMEOUT_SECONDS": "1.5", "COLLECTION_INTERVAL_SECONDS": "3600"}
    stack = Stack(data_dir=data_dir, ports=free_ports(), extra_env=env, demo_merchant=True)
    with running(stack):
        yield stack


def free_ports() -> Ports:
    return Ports(
        gateway=free_port(),
        user=free_port(),
        credit=free_port(),
        model=free_port(),
        cognito=free_port(),
        demo_merchant=free_port(),
        psp=free_port(),
    )


@contextmanager
def running(stack: Stack) -> Iterator[Stack]:
    """Start the stack; while it runs, ``journey.order(...)`` creates its sessions there."""
    stack.start()
    try:
        with merchants_of(stack.url("credit"), stack.data_dir):
            yield stack
    finally:
        stack.stop()


@dataclass
class Shopper:
    """A signed-up shopper with an access token, talking GraphQL to the gateway."""

    email: str
    sub: str
    token: str
    gateway: str

    def gql(self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None) -> httpx.Response:
        headers = {"Authorization": token if token is not None else self.token}
        return httpx.post(
            f"{self.gateway}/graphql", json={"query": query, "variables": variables or {}}, headers=headers, timeout=30
        )

    def ok(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.gql(query, variables)
        body = response.json()
        assert response.status_code == 200 and not body.get("errors"), body
        return body["data"]

    def error(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = self.gql(query, variables).json()
        assert body.get("errors"), body
        return body["errors"][0]


@pytest.fixture
def new_shopper(stack: Stack):
    def make(card: str | None = CARD_OK) -> Shopper:
        """A signed-up shopper; with a sandbox test card on file (``card``), as confirming needs."""
        assert stack.cognito is not None
        email = f"shopper-{uuid.uuid4().hex[:10]}@example.com"
        sub = stack.cognito.sign_up(email, PASSWORD)
        token = stack.cognito.access_token(email, PASSWORD)
        shopper = Shopper(email=email, sub=sub, token=token, gateway=stack.url("gateway"))
        if card is not None:
            add_card(shopper, card)
        return shopper

    return make


def read_outbox(stack: Stack, phone: str) -> str:
    """The newest one-time code sent to ``phone`` through the local SMS outbox."""
    return last_code(outbox_path(stack), to=phone)


def outbox_path(stack: Stack) -> Path:
    return stack.data_dir / "sms-outbox.jsonl"
