"""The issue's own check, on a real gateway process: the costliest documents the token limit lets
through are refused in well under a second each, while ``/livez`` keeps answering.

The gateway runs as ``python -m bnpl_gateway`` (uvicorn, one event loop), with a real moto server
as its Cognito: the token is a real access token, checked against moto's JWKS over HTTP.
"""

from __future__ import annotations

import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from bnpl_common.testing import ServiceProcess, free_port, moto_server
from bnpl_gateway.schema import MAX_SELECTIONS, MAX_TOKENS
from graphql import parse

pytestmark = pytest.mark.e2e

PASSWORD = "Passw0rd-cost"
# The numbers: a 21-fragment bomb took 19 s and /livez waited 18 s. Refusing must take a
# small fraction of that; these bounds are generous for a shared 2-core machine.
REFUSED_WITHIN = 1.0
LIVEZ_WITHIN = 1.0


def fragment_bomb(fragments: int, *, on: str = "Query", leaf: str = "__typename", root: str = "...F0") -> str:
    chain = [f"fragment F{i} on {on} {{ ...F{i + 1} ...F{i + 1} }}" for i in range(fragments)]
    chain.append(f"fragment F{fragments} on {on} {{ {leaf} }}")
    return f"query Bomb {{ {root} }}\n" + "\n".join(chain)


def fits_the_token_limit(text: str) -> bool:
    try:
        parse(text, max_tokens=MAX_TOKENS)
    except Exception:
        return False
    return True


def worst_cases() -> dict[str, str]:
    """The largest bombs that pass the token limit, and the widest flat document."""
    fragments = 21
    while fits_the_token_limit(fragment_bomb(fragments + 1)):
        fragments += 1
    customer = 21
    while fits_the_token_limit(fragment_bomb(customer + 1, on="Customer", leaf="id", root="me { ...F0 }")):
        customer += 1
    flat = "{ me { " + "id " * (MAX_TOKENS - 6) + "} }"
    assert fits_the_token_limit(flat) and fragments > 150
    return {
        "the issue's 21 fragments": fragment_bomb(21),
        f"{fragments} fragments": fragment_bomb(fragments),
        f"{customer} fragments under me": fragment_bomb(customer, on="Customer", leaf="id", root="me { ...F0 }"),
        "flat": flat,
    }


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(gateway URL, access token): a gateway process and the moto Cognito it trusts."""
    with moto_server() as endpoint:
        idp = boto3.client(
            "cognito-idp",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        pool_id = idp.create_user_pool(PoolName="cost")["UserPool"]["Id"]
        client_id = idp.create_user_pool_client(
            UserPoolId=pool_id, ClientName="cost", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
        )["UserPoolClient"]["ClientId"]
        username = f"cost-{uuid.uuid4().hex[:8]}@example.com"
        idp.admin_create_user(UserPoolId=pool_id, Username=username, MessageAction="SUPPRESS")
        idp.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=PASSWORD, Permanent=True)
        token = idp.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
        )["AuthenticationResult"]["AccessToken"]

        port = free_port()
        unused = f"http://127.0.0.1:{free_port()}"  # a refused document never reaches a service
        process = ServiceProcess(
            name="gateway",
            args=[sys.executable, "-m", "bnpl_gateway"],
            health_url=f"http://127.0.0.1:{port}/readyz",
            env={
                "BNPL_ENV": "test",
                "AWS_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "COGNITO_USER_POOL_ID": pool_id,
                "COGNITO_CLIENT_IDS": client_id,
                "COGNITO_ENDPOINT": endpoint,
                "USER_SERVICE_URL": unused,
                "CREDIT_SERVICE_URL": unused,
                "GATEWAY_HOST": "127.0.0.1",
                "GATEWAY_PORT": str(port),
            },
            log_path=Path(tmp_path_factory.mktemp("gateway")) / "gateway.log",
        ).start()
        try:
            yield f"http://127.0.0.1:{port}", token
        finally:
            process.stop()


class LivezProbe(threading.Thread):
    """Asks ``/livez`` every 20 ms and records how long each answer took."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.stop = threading.Event()
        self.answers: list[tuple[int, float]] = []

    def run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self.stop.is_set():
                started = time.monotonic()
                status = client.get(f"{self.url}/livez").status_code
                self.answers.append((status, time.monotonic() - started))
                self.stop.wait(0.02)


def test_the_worst_documents_are_refused_fast_while_livez_answers(gateway: tuple[str, str]) -> None:
    url, token = gateway
    documents = worst_cases()
    probe = LivezProbe(url)
    probe.start()
    timings: dict[str, list[float]] = {}
    try:
        with httpx.Client(timeout=30) as client:
            # The JWKS is fetched on the first token: not part of what is measured.
            warm = client.post(f"{url}/graphql", json={"query": "{ __typename }"}, headers={"Authorization": token})
            assert warm.json() == {"data": {"__typename": "Query"}}, warm.text
            finished = time.monotonic() + 2.0
            while time.monotonic() < finished:
                for name, query in documents.items():
                    started = time.monotonic()
                    response = client.post(f"{url}/graphql", json={"query": query}, headers={"Authorization": token})
                    timings.setdefault(name, []).append(time.monotonic() - started)
                    assert response.status_code == 200, response.text
                    errors: list[dict[str, Any]] = response.json()["errors"]
                    assert [e["errorType"] for e in errors] == ["ValidationError"], (name, errors)
                    assert f"more than {MAX_SELECTIONS} fields" in errors[0]["message"], (name, errors)
    finally:
        probe.stop.set()
        probe.join()
    slowest = {name: max(times) for name, times in timings.items()}
    assert all(time_ < REFUSED_WITHIN for time_ in slowest.values()), slowest
    assert len(probe.answers) >= 10, "the probe hardly ran: /livez was held up"
    assert {status for status, _ in probe.answers} == {200}
    assert max(latency for _, latency in probe.answers) < LIVEZ_WITHIN, probe.answers
