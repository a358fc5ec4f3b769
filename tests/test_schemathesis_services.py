"""Standing suite: schemathesis against every service's OpenAPI document, no server error on
any generated input.

The user and credit services run as the e2e stack's real processes, called as the gateway
calls them: a real SigV4 signature (the local key), a real Cognito access token of a shopper
with a verified phone, an Idempotency-Key where the generator left none, and, for applications,
the profile signed as the user service signs it, so generated bodies reach the decision and
not only the checks in front of it. The sandbox PSP runs in process with its API key. A
bounded number of examples per operation keeps the suite to a minute or two.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from bnpl_common.service_auth import USER_TOKEN_HEADER
from bnpl_common.sigv4 import SigV4Auth
from bnpl_common.testing import fake_aws_credentials
from bnpl_credit.testing import sign_profile
from hypothesis import HealthCheck, Phase, given, settings

from scripts.devstack import Stack
from tests.journey import good_profile, phone
from tests.test_e2e_journey import verified

pytestmark = pytest.mark.e2e

EXAMPLES = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,  # the same inputs on every run: a failure reproduces
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
PSP_KEY = "sk_test_schemathesis"


@pytest.fixture(scope="module")
def caller(stack: Stack, new_shopper_module: Any) -> dict[str, str]:
    shopper = new_shopper_module()
    verified(shopper, stack, good_profile(phoneNumber=phone()))
    return {"sub": shopper.sub, "token": shopper.token}


@pytest.fixture(scope="module")
def new_shopper_module(stack: Stack) -> Any:
    from tests.conftest import PASSWORD, Shopper

    def make() -> Shopper:
        assert stack.cognito is not None
        email = f"fuzz-{uuid.uuid4().hex[:10]}@example.com"
        sub = stack.cognito.sign_up(email, PASSWORD)
        return Shopper(email, sub, stack.cognito.access_token(email, PASSWORD), stack.url("gateway"))

    return make


@pytest.fixture(scope="module")
def user_schema(stack: Stack) -> Any:
    return schemathesis.openapi.from_url(f"{stack.url('user')}/openapi.json")


@pytest.fixture(scope="module")
def credit_schema(stack: Stack) -> Any:
    return schemathesis.openapi.from_url(f"{stack.url('credit')}/openapi.json")


@pytest.fixture(scope="module")
def psp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from bnpl_psp_sandbox.main import create_app
    from bnpl_psp_sandbox.settings import Settings
    from fastapi.testclient import TestClient

    data: Path = tmp_path_factory.mktemp("psp")
    app = create_app(Settings(data_dir=data, api_key=PSP_KEY))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def psp_schema(psp: Any) -> Any:
    return schemathesis.openapi.from_dict(psp.app.openapi())  # served at no URL: the sandbox mimics Stripe


def _send(case: Any, base_url: str, caller: dict[str, str]) -> httpx.Response:
    kwargs = case.as_transport_kwargs(base_url=base_url)
    headers = {k: v for k, v in (kwargs.pop("headers", None) or {}).items() if k.lower() != "authorization"}
    headers[USER_TOKEN_HEADER] = caller["token"]
    if case.method.upper() in ("POST", "PUT") and not any(k.lower() == "idempotency-key" for k in headers):
        headers["Idempotency-Key"] = uuid.uuid4().hex
    body = kwargs.get("json")
    if case.path == "/v1/applications" and isinstance(body, dict) and isinstance(body.get("profile"), dict):
        body["profile"]["id"] = caller["sub"]
        body["profileSignature"] = sign_profile(body["profile"])
    auth = SigV4Auth(fake_aws_credentials(), region="us-east-1")
    kwargs.pop("auth", None)
    kwargs.pop("cookies", None)
    return httpx.request(headers=headers, auth=auth, timeout=30, **kwargs)


def _operations(schema: Any) -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]


def _fuzz(schema: Any, send: Callable[[Any], Any]) -> list[str]:
    """Every operation with ``EXAMPLES``; the server errors found, one line each."""
    failures: list[str] = []
    sent = 0
    for operation in _operations(schema):

        @given(case=operation.as_strategy())
        @EXAMPLES
        def run(case: Any) -> None:
            nonlocal sent
            sent += 1
            response = send(case)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}")

        run()
    assert sent >= len(_operations(schema))  # every operation was called
    return failures


def test_user_service(stack: Stack, user_schema: Any, caller: dict[str, str]) -> None:
    assert len(_operations(user_schema)) >= 6
    assert _fuzz(user_schema, lambda case: _send(case, stack.url("user"), caller)) == []


def test_credit_service(stack: Stack, credit_schema: Any, caller: dict[str, str]) -> None:
    assert len(_operations(credit_schema)) >= 10
    assert _fuzz(credit_schema, lambda case: _send(case, stack.url("credit"), caller)) == []


def test_psp_sandbox(psp: Any, psp_schema: Any) -> None:
    def send(case: Any) -> Any:
        kwargs = case.as_transport_kwargs(base_url="http://testserver")
        headers = {**(kwargs.pop("headers", None) or {}), "Authorization": f"Bearer {PSP_KEY}"}
        kwargs.pop("cookies", None)
        return psp.request(headers=headers, **kwargs)

    assert _fuzz(psp_schema, send) == []
