"""Container smoke test (`make test-containers`): build the images with the Docker SDK, bring the
compose stack up, drive one checkout decision through the published gateway, tear it all down.
Runs wherever a Docker engine answers; elsewhere it is skipped with the reason."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid

import httpx
import pytest

from tests import journey
from tests.infra._paths import COMPOSE_FILE, MODEL_DOCKERFILE, ROOT, SERVICE_DOCKERFILES

PROJECT = "bnpl-smoke"
PORT = os.environ.get("SMOKE_GATEWAY_PORT", "18000")


def _engine():  # returns docker.DockerClient
    try:
        import docker
    except ImportError:
        pytest.skip("the docker package (Docker SDK for Python) is not installed: pip install docker")
    try:
        client = docker.from_env(timeout=300)
        client.ping()
    except Exception as exc:
        reason = f"no Docker engine answers here ({type(exc).__name__})"
        pytest.skip(f"{reason}; run `make test-containers` on a machine with Docker")
    if subprocess.run(["docker", "compose", "version"], capture_output=True, check=False).returncode != 0:
        pytest.skip("a Docker engine answers but the `docker compose` plugin is missing")
    return client


def _compose(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GATEWAY_HOST_PORT": PORT}
    cmd = ["docker", "compose", "-p", PROJECT, "-f", str(COMPOSE_FILE), *args]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=check)


def _graphql(token: str, query: str, variables: dict | None = None) -> dict:
    response = httpx.post(
        f"http://127.0.0.1:{PORT}/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": token},
        timeout=30,
    )
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]


def _sign_in_like_the_page(email: str, password: str) -> str:
    """InitiateAuth at the endpoint /config.json gives the page: the gateway's Cognito pass-through."""
    base = f"http://127.0.0.1:{PORT}"
    cognito = httpx.get(f"{base}/config.json", timeout=10).json()["cognito"]
    assert cognito["endpoint"] == f"{base}/cognito/"
    response = httpx.post(
        cognito["endpoint"],
        content=json.dumps(
            {
                "ClientId": cognito["clientId"],
                "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": email, "PASSWORD": password},
            }
        ),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()["AuthenticationResult"]["AccessToken"]


def test_checkout_decision_through_the_compose_stack() -> None:
    client = _engine()
    images = {f"bnpl-{name}:local": path for name, path in SERVICE_DOCKERFILES.items()}
    images["bnpl-model:local"] = MODEL_DOCKERFILE
    for tag, dockerfile in images.items():
        client.images.build(path=str(ROOT), dockerfile=str(dockerfile.relative_to(ROOT)), tag=tag, rm=True)
    try:
        _compose("up", "-d", "--no-build", "--wait", "--wait-timeout", "300")
        email = f"smoke-{uuid.uuid4().hex[:8]}@example.com"
        password = "Smoke-Passw0rd"
        # Sign up (confirmed as an admin would) with the documented script, then sign in as the
        # checkout page does: through the gateway, the only published port.
        _compose(
            "run",
            "--rm",
            "--no-deps",
            "--entrypoint",
            "python",
            "init",
            "/workspace/scripts/local_user.py",
            "--cognito",
            "/run/bnpl/local-cognito.json",
            "--email",
            email,
            "--password",
            password,
        )
        token = _sign_in_like_the_page(email, password)
        _graphql(token, journey.CREATE_PROFILE, {"input": journey.good_profile()})
        _graphql(token, journey.START_VERIFICATION)
        user = client.containers.get(f"{PROJECT}-user-1")
        outbox = user.exec_run(["python", "-c", "print(open('/var/lib/bnpl/sms-outbox.jsonl').read())"]).output
        code = next(
            word for word in json.loads(outbox.decode().strip().splitlines()[-1])["body"].split() if word.isdigit()
        )
        _graphql(token, journey.CONFIRM_VERIFICATION, {"code": code})
        order = {
            "merchantId": "smoke-shop",
            "orderReference": f"smoke-{int(time.time())}",
            "amount": {"amount": 20_000, "currency": "EUR"},
            "planType": "PAY_IN_4",
        }
        decision = _graphql(token, journey.APPLY, {"input": order, "key": uuid.uuid4().hex})["applyForCredit"]
        assert decision["status"] in ("APPROVED", "DECLINED", "REFERRED")
        assert decision["modelVersion"], decision
    finally:
        _compose("down", "-v", "--remove-orphans", check=False)
