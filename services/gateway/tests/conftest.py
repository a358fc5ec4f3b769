"""Gateway tests: the real gateway app in front of tiny fake user and credit services.

The fakes are FastAPI apps reached through httpx's ASGI transport; they verify the SigV4
signature and the forwarded user token with the real ``ServiceAuthenticator``, so the
gateway's signing is exercised for real.
"""

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

import httpx
import pytest
from bnpl_common.app import install_common
from bnpl_common.jwt import CognitoJwtVerifier, Principal
from bnpl_common.service_auth import ServiceAuthenticator
from bnpl_common.settings import LOCAL_SIGV4_ACCESS_KEY_ID, LOCAL_SIGV4_SECRET
from bnpl_common.testing import TEST_CLIENT_ID, TEST_POOL_ID, TEST_REGION, TokenMinter, fake_aws_credentials
from bnpl_gateway.main import create_app
from bnpl_gateway.settings import Settings
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

USER_URL = "http://user.test"
CREDIT_URL = "http://credit.test"
SUB = "6f1c5a52-64a2-4c1e-9a53-2d1f3c0e9b11"


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    headers: httpx.Headers
    body: Any
    sub: str


Reply = tuple[int, Any] | Callable[[Call], tuple[int, Any]]


@dataclass
class FakeService:
    """A service that checks SigV4 + user token, records each call and answers from ``routes``."""

    minter: TokenMinter
    routes: dict[tuple[str, str], Reply] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)

    def app(self) -> FastAPI:
        async def jwks() -> dict[str, Any]:
            return self.minter.jwks()

        verifier = CognitoJwtVerifier(issuer=self.minter.issuer, client_ids=[self.minter.client_id], fetch_jwks=jwks)
        gate = ServiceAuthenticator(
            secrets={LOCAL_SIGV4_ACCESS_KEY_ID: LOCAL_SIGV4_SECRET}, service="execute-api", verifier=verifier
        )
        app = FastAPI()
        install_common(app)

        @app.api_route("/v1/{path:path}", methods=["GET", "POST", "PUT", "PATCH"])
        async def handle(request: Request, principal: Annotated[Principal, Depends(gate)]) -> JSONResponse:
            raw = await request.body()
            call = Call(
                method=request.method,
                path=request.url.path,
                query=dict(request.query_params),
                headers=httpx.Headers(request.headers.raw),
                body=json.loads(raw) if raw else None,
                sub=principal.sub,
            )
            self.calls.append(call)
            reply = self.routes.get((call.method, call.path))
            if reply is None and (call.method, call.path) == ("GET", "/v1/profile/snapshot"):
                reply = _snapshot_of(self.routes.get(("GET", "/v1/profile")), call)
            if reply is None:
                return JSONResponse({"error": {"type": "NotFound", "message": "Not Found"}}, status_code=404)
            status, payload = reply(call) if callable(reply) else reply
            return JSONResponse(payload, status_code=status)

        return app

    def paths(self) -> list[tuple[str, str]]:
        return [(c.method, c.path) for c in self.calls]


def _snapshot_of(profile_reply: Reply | None, call: Call) -> tuple[int, Any] | None:
    """The user service's signed snapshot, as a test's ``GET /v1/profile`` route would give it
    (the gateway passes it through; signatures are checked by the credit service's tests)."""
    if profile_reply is None:
        return None
    status, payload = profile_reply(call) if callable(profile_reply) else profile_reply
    if status != 200:
        return status, payload
    return 200, {"profile": payload, "signedAt": "2026-03-15T12:00:00.000000Z", "signature": "local.test"}


@dataclass
class FakeCognito:
    """Cognito's ``GetUser`` as the gateway's revocation check asks it: 200 for a live token,
    ``NotAuthorizedException`` for a revoked one, a 500 while ``down``."""

    revoked: set[str] = field(default_factory=set)
    down: bool = False
    asked: int = 0
    before_answer: Callable[[], Awaitable[Any]] | None = None  # awaited (2 s at most) before answering

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/")
        async def api(request: Request) -> JSONResponse:
            assert request.headers["x-amz-target"] == "AWSCognitoIdentityProviderService.GetUser"
            self.asked += 1
            if self.before_answer is not None:
                await asyncio.wait_for(self.before_answer(), timeout=2)
            if self.down:
                return JSONResponse({"__type": "InternalErrorException"}, status_code=500)
            token = json.loads(await request.body())["AccessToken"]
            if token in self.revoked:
                return JSONResponse({"__type": "NotAuthorizedException", "message": "revoked"}, status_code=400)
            return JSONResponse({"Username": "u", "UserAttributes": []})

        return app


COGNITO_HOST = f"cognito-idp.{TEST_REGION}.amazonaws.com"


class RoutingTransport(httpx.AsyncBaseTransport):
    """Sends each request to the in-process app that owns its host."""

    def __init__(self, apps: dict[str, httpx.AsyncBaseTransport]) -> None:
        self.apps = apps

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self.apps.get(request.url.host)
        if transport is None:
            raise httpx.ConnectError("no route to host", request=request)
        return await transport.handle_async_request(request)


@pytest.fixture
def minter() -> TokenMinter:
    return TokenMinter()


@pytest.fixture
def token(minter: TokenMinter) -> str:
    return minter.mint(SUB)


@pytest.fixture
def user_service(minter: TokenMinter) -> FakeService:
    return FakeService(minter)


@pytest.fixture
def credit_service(minter: TokenMinter) -> FakeService:
    return FakeService(minter)


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "bnpl_env": "test",
        "aws_region": TEST_REGION,
        "cognito_user_pool_id": TEST_POOL_ID,
        "cognito_client_ids": [TEST_CLIENT_ID],
        "user_service_url": USER_URL,
        "credit_service_url": CREDIT_URL,
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
def cognito() -> FakeCognito:
    return FakeCognito()


@pytest.fixture
def build_gateway(
    minter: TokenMinter, user_service: FakeService, credit_service: FakeService, cognito: FakeCognito
) -> Iterator[Callable[..., TestClient]]:
    """Start a gateway (lifespan included) wired to the fakes; pass settings overrides or a transport."""
    clients: list[TestClient] = []

    async def jwks() -> dict[str, Any]:
        return minter.jwks()

    def build(*, transport: httpx.AsyncBaseTransport | None = None, **overrides: Any) -> TestClient:
        routing = transport or RoutingTransport(
            {
                "user.test": httpx.ASGITransport(app=user_service.app()),
                "credit.test": httpx.ASGITransport(app=credit_service.app()),
                COGNITO_HOST: httpx.ASGITransport(app=cognito.app()),
            }
        )
        app = create_app(
            make_settings(**overrides), jwks_fetcher=jwks, transport=routing, credentials=fake_aws_credentials()
        )
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def gateway(build_gateway: Callable[..., TestClient]) -> TestClient:
    return build_gateway()


@pytest.fixture
def gql(gateway: TestClient, token: str) -> Callable[..., dict[str, Any]]:
    """POST a GraphQL operation with the caller's token; return the JSON body (status 200 asserted)."""

    def run(query: str, variables: dict[str, Any] | None = None, **headers: str) -> dict[str, Any]:
        response = gateway.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": token, **headers},
        )
        assert response.status_code == 200, response.text
        return response.json()

    return run


# --- test data: the REST shapes of docs/contracts.md ---------------------------------


def money(amount: int, currency: str = "EUR") -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def customer_json(sub: str = SUB, **overrides: Any) -> dict[str, Any]:
    return {
        "id": sub,
        "email": "ada@example.com",
        "givenName": "Ada",
        "familyName": "Lovelace",
        "dateOfBirth": "1990-12-10",
        "phoneNumber": "+447700900123",
        "phoneVerified": True,
        "address": {
            "line1": "1 High Street",
            "line2": None,
            "city": "London",
            "region": None,
            "postalCode": "N1 9GU",
            "country": "GB",
        },
        "monthlyIncome": money(350_000),
        "monthlyExpenses": money(150_000),
        "housing": "RENT",
        "employment": "FIXED",
        "employmentYears": 4,
        "assets": money(1_000_000),
        "debt": money(0),
        "createdAt": "2026-11-01T09:00:00Z",
        "updatedAt": "2026-11-01T09:00:00Z",
        **overrides,
    }


def offer_json(plan_type: str = "PAY_IN_4", total: int = 40_000) -> dict[str, Any]:
    return {
        "planType": plan_type,
        "amountFinanced": money(total),
        "financeCharge": money(0),
        "totalOfPayments": money(total),
        "apr": 0.0,
        "aprBasisPoints": 0,
        "rateKind": "APRC",
        "rateLabel": "APRC",
        "annualRate": 0.0,
        "installments": [
            {"sequence": i + 1, "dueDate": f"2026-1{i % 2 + 1}-0{i + 1}", "amount": money(total // 4)} for i in range(4)
        ],
    }


def application_json(status: str = "APPROVED", decision: str | None = None, **overrides: Any) -> dict[str, Any]:
    """The credit service's application; ``decision`` defaults to ``status`` when that is a decision,
    else APPROVED (the application was approved before it was confirmed, cancelled or expired)."""
    return {
        "id": "a7d6f1c2-0b1e-4a55-8f0e-3b9c1d2e4f60",
        "status": status,
        "decision": decision or (status if status in ("APPROVED", "DECLINED", "REFERRED") else "APPROVED"),
        "amount": money(40_000),
        "merchantId": "merchant-1",
        "orderReference": "order-42",
        "planType": "PAY_IN_4",
        "createdAt": "2026-11-01T10:00:00Z",
        "expiresAt": "2026-11-02T10:00:00Z",
        "score": 712,
        "riskGrade": "B",
        "pd": 0.031,
        "reasons": [{"code": "R01", "description": "Short credit history"}],
        "offer": offer_json() if status in ("APPROVED", "CONFIRMED", "CANCELLED") else None,
        "modelVersion": "scorecard-1",
        "policyVersion": "policy-2026-11-01",
        "planId": None,
        **overrides,
    }


def plan_json(**overrides: Any) -> dict[str, Any]:
    return {
        "id": "p1b2c3d4-0000-4000-8000-000000000001",
        "applicationId": "a7d6f1c2-0b1e-4a55-8f0e-3b9c1d2e4f60",
        "status": "ACTIVE",
        "planType": "PAY_IN_4",
        "merchantId": "merchant-1",
        "orderReference": "order-42",
        "principal": money(40_000),
        "financeCharge": money(0),
        "totalOfPayments": money(40_000),
        "apr": 0.0,
        "aprBasisPoints": 0,
        "rateKind": "APRC",
        "rateLabel": "APRC",
        "annualRate": 0.0,
        "amountPaid": money(10_000),
        "amountOutstanding": money(30_000),
        "installments": [
            {
                "sequence": i + 1,
                "dueDate": f"2026-12-0{i + 1}",
                "amount": money(10_000),
                "amountPaid": money(10_000 if i == 0 else 0),
                "status": "PAID" if i == 0 else "DUE",
            }
            for i in range(4)
        ],
        "createdAt": "2026-11-01T10:05:00Z",
        **overrides,
    }


def error_body(error_type: str, message: str, field: str | None = None, **info: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": error_type, "message": message}
    if field is not None:
        body["field"] = field
    if info:
        body["info"] = info
    return {"error": body}


class Api:
    """The REST shapes as a fixture (test modules cannot import conftest under importlib mode)."""

    sub = SUB
    money = staticmethod(money)
    customer = staticmethod(customer_json)
    offer = staticmethod(offer_json)
    application = staticmethod(application_json)
    plan = staticmethod(plan_json)
    error = staticmethod(error_body)


@pytest.fixture
def api() -> type[Api]:
    return Api
