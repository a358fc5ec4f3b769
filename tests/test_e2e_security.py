"""Who may see what, end to end: tokens at the gateway, signatures at the services."""

from __future__ import annotations

import uuid

import httpx
import pytest
from bnpl_common.service_auth import USER_TOKEN_HEADER
from bnpl_common.sigv4 import SigV4Auth
from bnpl_common.testing import TokenMinter, fake_aws_credentials

from scripts.devstack import Stack
from tests.journey import APPLICATION, APPLICATIONS, APPLY, ME
from tests.test_e2e_journey import good_profile, order, verified

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("token", ["", "garbage", "Bearer not.a.jwt"])
def test_gateway_rejects_missing_or_bad_tokens_with_401(stack: Stack, token: str) -> None:
    headers = {"Authorization": token} if token else {}
    r = httpx.post(f"{stack.url('gateway')}/graphql", json={"query": ME}, headers=headers)
    assert r.status_code == 401
    assert r.json()["errors"][0]["errorType"] == "UnauthorizedException"


def test_gateway_rejects_a_token_from_another_issuer(stack: Stack) -> None:
    assert stack.cognito is not None
    forged = TokenMinter(pool_id=stack.cognito.pool_id, client_id=stack.cognito.client_id).mint()
    r = httpx.post(f"{stack.url('gateway')}/graphql", json={"query": ME}, headers={"Authorization": forged})
    assert r.status_code == 401


def test_bearer_prefix_is_accepted(stack: Stack, new_shopper) -> None:
    shopper = new_shopper()
    r = shopper.gql(ME, token=f"Bearer {shopper.token}")
    assert r.status_code == 200 and r.json()["data"]["me"] is None


def test_services_refuse_unsigned_calls_and_calls_without_a_user_token(stack: Stack, new_shopper) -> None:
    shopper = new_shopper()
    for base in (stack.url("user"), stack.url("credit")):
        path = "/v1/profile" if base == stack.url("user") else "/v1/applications"
        unsigned = httpx.get(f"{base}{path}", headers={USER_TOKEN_HEADER: shopper.token})
        assert unsigned.status_code == 403, unsigned.text
        signer = SigV4Auth(fake_aws_credentials(), region="us-east-1")
        no_token = httpx.get(f"{base}{path}", auth=signer)
        assert no_token.status_code == 401, no_token.text
        ok = httpx.get(f"{base}{path}", headers={USER_TOKEN_HEADER: shopper.token}, auth=signer)
        assert ok.status_code in (200, 404), ok.text


def test_one_customer_never_reads_another_customers_application(stack: Stack, new_shopper) -> None:
    alice, mallory = new_shopper(), new_shopper()
    verified(alice, stack, good_profile())
    app = alice.ok(APPLY, {"input": order(), "key": uuid.uuid4().hex})["applyForCredit"]
    assert mallory.ok(APPLICATION, {"id": app["id"]})["application"] is None
    assert mallory.ok(APPLICATIONS)["applications"]["items"] == []
    assert mallory.ok(ME)["me"] is None
    # Nor by calling the credit service directly with a valid signature but their own token.
    signer = SigV4Auth(fake_aws_credentials(), region="us-east-1")
    r = httpx.get(
        f"{stack.url('credit')}/v1/applications/{app['id']}", headers={USER_TOKEN_HEADER: mallory.token}, auth=signer
    )
    assert r.status_code == 404


def test_no_tokens_or_codes_in_service_logs(stack: Stack) -> None:
    """Runs after the journeys of this session: their logs must hold no token and no code."""
    outbox = (stack.data_dir / "sms-outbox.jsonl").read_text() if (stack.data_dir / "sms-outbox.jsonl").exists() else ""
    codes = {"".join(c for c in line.split("code is")[-1] if c.isdigit())[:6] for line in outbox.splitlines() if line}
    for name, proc in stack.services.items():
        text = proc.logs()
        assert "eyJ" not in text, f"{name} logged something that looks like a JWT"
        for code in codes:
            assert f"code is {code}" not in text and f'"{code}"' not in text, f"{name} logged a one-time code"
