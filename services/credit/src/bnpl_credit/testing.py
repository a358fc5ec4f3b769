"""Test helpers other packages can use too: a fake scorer at the port, a stand-in model
server speaking the SageMaker contract, request factories and a signed client per customer."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from bnpl_common.profile_signature import (
    LOCAL_PROFILE_SIGNING_KEY_ID,
    LOCAL_PROFILE_SIGNING_SEED,
    ProfileSigner,
    private_key,
)
from bnpl_common.service_auth import USER_TOKEN_HEADER
from bnpl_common.sigv4 import SigV4Auth
from bnpl_common.testing import TokenMinter, fake_aws_credentials
from bnpl_common.timefmt import format_instant
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from bnpl_credit.scoring.port import FeatureRow, ScoreReason, ScoreResult

PREDICTION = {
    "pd": 0.07,
    "score": 603,
    "grade": "A",
    "reasons": [{"code": "R_INCOME", "feature": "Income", "description": "Your monthly income is low"}],
    "model_version": "scorecard-1",
}


NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def score_result(pd: float = 0.05, grade: str = "A", **kw: Any) -> ScoreResult:
    reasons = kw.pop(
        "reasons",
        (
            ScoreReason("R_AMOUNT", "Amount", "The amount requested is high"),
            ScoreReason("R_SENIORITY", "Seniority", "Time with your current employer is short"),
        ),
    )
    return ScoreResult(pd=pd, score=kw.pop("score", 600), grade=grade, model_version="test-model-1", reasons=reasons)


@dataclass
class FakeScorer:
    """A scorer at the port: returns ``result``, raises ``error`` or sleeps ``delay`` first."""

    result: ScoreResult = field(default_factory=score_result)
    error: Exception | None = None
    delay: float = 0.0
    calls: list[FeatureRow] = field(default_factory=list)

    async def score(self, features: FeatureRow) -> ScoreResult:
        self.calls.append(features)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return self.result

    async def aclose(self) -> None:
        pass


def make_profile(sub: str, **overrides: Any) -> dict[str, Any]:
    def eur(amount: int) -> dict[str, Any]:
        return {"amount": amount, "currency": "EUR"}

    profile = {
        "id": sub,
        "email": "shopper@example.com",
        "givenName": "Ana",
        "familyName": "Lopez",
        "dateOfBirth": "1985-05-01",
        "phoneNumber": "+34600000001",
        "phoneVerified": True,
        "address": {"line1": "Calle 1", "city": "Madrid", "postalCode": "28001", "country": "ES"},
        "monthlyIncome": eur(300_000),
        "monthlyExpenses": eur(100_000),
        "housing": "OWNER",
        "employment": "FIXED",
        "employmentYears": 8,
        "assets": eur(500_000),
        "debt": eur(0),
        "createdAt": "2026-10-01T10:00:00Z",
        "updatedAt": "2026-10-01T10:00:00Z",
    }
    profile.update(overrides)
    return profile


def make_order(**overrides: Any) -> dict[str, Any]:
    order = {
        "merchantId": "merchant-1",
        "orderReference": f"order-{uuid.uuid4().hex[:8]}",
        "amount": {"amount": 20_000, "currency": "EUR"},
        "planType": "PAY_IN_4",
    }
    order.update(overrides)
    return order


def sign_profile(profile: dict[str, Any]) -> dict[str, str]:
    """The ``profileSignature`` the local user service would give ``profile`` now."""
    signed_at = format_instant(datetime.now(UTC))
    signer = ProfileSigner(LOCAL_PROFILE_SIGNING_KEY_ID, private_key(LOCAL_PROFILE_SIGNING_SEED))
    return {"signedAt": signed_at, "signature": signer.sign(profile, signed_at)}


def application_body(order: dict[str, Any], profile: dict[str, Any]) -> dict[str, Any]:
    """An application's body with the profile signed as the user service signs it."""
    return {"order": order, "profile": profile, "profileSignature": sign_profile(profile)}


def new_key() -> str:
    return f"key-{uuid.uuid4().hex}"


class Api:
    """Signed calls as one customer (``sub``)."""

    def __init__(self, client: TestClient, minter: TokenMinter, sub: str | None = None) -> None:
        self.client = client
        self.sub = sub or str(uuid.uuid4())
        self.token = minter.mint(self.sub)
        self.auth = SigV4Auth(fake_aws_credentials(), region="us-east-1")

    def request(self, method: str, path: str, *, key: str | None = None, **kw: Any) -> httpx.Response:
        headers = {USER_TOKEN_HEADER: self.token, **kw.pop("headers", {})}
        if key is not None:
            headers["Idempotency-Key"] = key
        response: httpx.Response = self.client.request(method, path, headers=headers, auth=self.auth, **kw)
        return response

    def apply(self, *, key: str | None = None, order: dict[str, Any] | None = None, **profile: Any) -> httpx.Response:
        body = application_body(order or make_order(), make_profile(self.sub, **profile))
        return self.request("POST", "/v1/applications", key=key or new_key(), json=body)

    def approved(self, **kw: Any) -> dict[str, Any]:
        r = self.apply(**kw)
        assert r.status_code == 201, r.text
        body: dict[str, Any] = r.json()
        assert body["status"] == "APPROVED", body
        return body

    def accepted_hash(self, application_id: str) -> str | None:
        """The content hash of the approval's pre-contract document, as a shopper accepts it
        (None when there is none to read: not this caller's, not an approval)."""
        r = self.request("GET", f"/v1/applications/{application_id}/pre-contract")
        return str(r.json()["contentHash"]) if r.status_code == 200 else None

    def confirm(self, application_id: str, key: str | None = None, *, accept: bool = True) -> httpx.Response:
        """Confirm, accepting the pre-contract document first (every market requires it)."""
        accepted = self.accepted_hash(application_id) if accept else None
        body = {"acceptedDocumentHash": accepted} if accepted else None
        return self.request("POST", f"/v1/applications/{application_id}/confirm", key=key or new_key(), json=body)

    def pay(self, plan_id: str, amount: int, *, key: str | None = None, currency: str = "EUR") -> httpx.Response:
        return self.request(
            "POST",
            f"/v1/plans/{plan_id}/payments",
            key=key or new_key(),
            json={"amount": {"amount": amount, "currency": currency}},
        )


def count_rows(db_path: str, table: str) -> int:
    conn = sqlite3.connect(db_path)
    try:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])  # noqa: S608 - fixed table names
    finally:
        conn.close()


def model_app(behaviour: str = "ok") -> FastAPI:
    """A stand-in model server speaking the SageMaker contract."""
    app = FastAPI()
    seen: list[Any] = []
    app.state.seen = seen

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/invocations")
    async def invocations(request: Request) -> Any:
        seen.append((request.headers.get("content-type"), await request.json()))
        if behaviour == "slow":
            await asyncio.sleep(5)
        if behaviour == "error":
            return JSONResponse({"error": {"type": "x", "message": "y"}}, status_code=500)
        if behaviour == "malformed":
            return {"predictions": [{"pd": "high"}]}
        return {"predictions": [PREDICTION]}

    return app


class MerchantClient:
    """Merchant API calls signed with one merchant's registry key (SigV4 ``execute-api``), as a
    shop's server makes them. ``credentials`` is an entry of ``.data/local-merchants.json``
    (``accessKeyId``, ``secretAccessKey``); ``client`` an ``httpx.Client`` or a FastAPI
    ``TestClient`` (else one is made for ``base_url``)."""

    def __init__(
        self,
        base_url: str,
        credentials: dict[str, Any],
        *,
        region: str = "us-east-1",
        client: httpx.Client | None = None,
        timeout: float = 30.0,
    ) -> None:
        from botocore.credentials import Credentials

        self.base_url = base_url.rstrip("/")
        self.access_key_id = str(credentials["accessKeyId"])
        self.auth = SigV4Auth(
            Credentials(self.access_key_id, str(credentials["secretAccessKey"])), region=region, service="execute-api"
        )
        self.client = client or httpx.Client(timeout=timeout)

    def request(self, method: str, path: str, *, key: str | None = None, **kw: Any) -> httpx.Response:
        headers = dict(kw.pop("headers", {}))
        if key is not None:
            headers["Idempotency-Key"] = key
        url = path if path.startswith("http") or not self.base_url else f"{self.base_url}{path}"
        response: httpx.Response = self.client.request(method, url, headers=headers, auth=self.auth, **kw)
        return response

    def post(self, path: str, body: dict[str, Any] | None = None, *, key: str | None = None) -> httpx.Response:
        """POST with an ``Idempotency-Key`` (a fresh one unless given)."""
        return self.request("POST", path, key=key or new_key(), json=body if body is not None else {})

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.request("GET", path, params=params or None)

    def create_checkout(self, body: dict[str, Any], *, key: str | None = None) -> httpx.Response:
        return self.post("/v1/merchant/checkouts", body, key=key)

    def checkout(self, checkout_id: str) -> httpx.Response:
        return self.get(f"/v1/merchant/checkouts/{checkout_id}")

    def capture(self, checkout_id: str, amount: int, currency: str, *, key: str | None = None) -> httpx.Response:
        body = {"amount": {"amount": amount, "currency": currency}}
        return self.post(f"/v1/merchant/checkouts/{checkout_id}/captures", body, key=key)

    def void(self, checkout_id: str, *, key: str | None = None) -> httpx.Response:
        return self.post(f"/v1/merchant/checkouts/{checkout_id}/void", {}, key=key)

    def refund(
        self, checkout_id: str, amount: int, currency: str, *, reason: str = "returned", key: str | None = None
    ) -> httpx.Response:
        body = {"amount": {"amount": amount, "currency": currency}, "reason": reason}
        return self.post(f"/v1/merchant/checkouts/{checkout_id}/refunds", body, key=key)


def checkout_body(
    amount: int = 20_000, currency: str = "EUR", *, origin: str = "http://127.0.0.1:8100", **overrides: Any
) -> dict[str, Any]:
    """A valid ``POST /v1/merchant/checkouts`` body for a merchant with ``origin``."""
    body: dict[str, Any] = {
        "orderReference": f"order-{uuid.uuid4().hex[:8]}",
        "amount": {"amount": amount, "currency": currency},
        "items": [{"name": "Lamp", "quantity": 1, "unitPrice": {"amount": amount, "currency": currency}}],
        "returnUrl": f"{origin}/orders/return",
        "cancelUrl": f"{origin}/orders/cancel",
    }
    body.update(overrides)
    return body
