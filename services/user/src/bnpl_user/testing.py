"""Test helpers for this service and for tests that cross services: a valid profile body,
the local SMS outbox reader, and signed calls against an in-process app."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from bnpl_common.clock import Clock
from bnpl_common.service_auth import USER_TOKEN_HEADER
from bnpl_common.sigv4 import SigV4Auth
from bnpl_common.testing import TEST_REGION, TokenMinter, fake_aws_credentials

from bnpl_user.main import create_app
from bnpl_user.notifier import Notifier
from bnpl_user.settings import Settings

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

_CODE_RE = re.compile(r"\b([0-9]{6})\b")


def profile_input(**overrides: Any) -> dict[str, Any]:
    """A valid ``ProfileInput`` body (adult, GBP, London); keyword arguments replace top-level fields."""
    body: dict[str, Any] = {
        "email": "ada@example.com",
        "givenName": "Ada",
        "familyName": "Lovelace",
        "dateOfBirth": "1990-12-10",
        "phoneNumber": "+447700900789",
        "address": {
            "line1": "12 St James's Square",
            "line2": None,
            "city": "London",
            "region": None,
            "postalCode": "SW1Y 4JH",
            "country": "GB",
        },
        "monthlyIncome": {"amount": 350000, "currency": "GBP"},
        "monthlyExpenses": {"amount": 150000, "currency": "GBP"},
        "housing": "RENT",
        "employment": "FIXED",
        "employmentYears": 6,
        "assets": {"amount": 1000000, "currency": "GBP"},
        "debt": {"amount": 0, "currency": "GBP"},
    }
    body.update(overrides)
    return body


def outbox_messages(path: Path) -> list[dict[str, Any]]:
    """Every SMS in the local outbox, oldest first."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def last_code(path: Path, to: str | None = None) -> str:
    """The code of the newest SMS in the outbox (to ``to`` when given)."""
    for message in reversed(outbox_messages(path)):
        if to is None or message["to"] == to:
            match = _CODE_RE.search(message["body"])
            if match:
                return match.group(1)
    raise LookupError("no verification code in the SMS outbox")


def in_process_client(
    settings: Settings, *, minter: TokenMinter, clock: Clock | None = None, notifier: Notifier | None = None
) -> TestClient:
    """A TestClient of the app that trusts ``minter``'s tokens (use it as a context manager)."""
    from fastapi.testclient import TestClient  # imported here: scripts use this module's outbox helpers

    async def fetch_jwks() -> dict[str, Any]:
        return minter.jwks()

    return TestClient(create_app(settings, clock=clock, fetch_jwks=fetch_jwks, notifier=notifier))


@dataclass
class UserApi:
    """Signed calls to the user service on behalf of one customer at a time."""

    client: TestClient | httpx.Client
    minter: TokenMinter
    outbox: Path

    def call(
        self,
        method: str,
        path: str,
        *,
        sub: str = "customer-a",
        json: Any = None,
        headers: dict[str, str] | None = None,
        signed: bool = True,
        token: str | None = None,
    ) -> httpx.Response:
        all_headers = {USER_TOKEN_HEADER: token if token is not None else self.minter.mint(sub)}
        all_headers.update(headers or {})
        auth = SigV4Auth(fake_aws_credentials(), region=TEST_REGION) if signed else None
        return self.client.request(method, path, json=json, headers=all_headers, auth=auth)

    def create_profile(self, sub: str = "customer-a", key: str | None = None, **overrides: Any) -> httpx.Response:
        headers = {"Idempotency-Key": key or f"create-{sub}"}
        return self.call("PUT", "/v1/profile", sub=sub, json=profile_input(**overrides), headers=headers)

    def sms(self) -> list[dict[str, Any]]:
        return outbox_messages(self.outbox)

    def last_code(self) -> str:
        return last_code(self.outbox)
