"""The compose stack as a fixture: built without a registry (docker/images.py), brought up with
both compose files (docker/stack.py), torn down with its volumes whatever happens. Where no
Docker engine answers, every test here is skipped with the reason.

Everything a shopper does goes to the published gateway port on 127.0.0.1, as a shopper's browser
would; a merchant's server creates checkout sessions and captures at the credit service's merchant
API (the credit container's address: only the gateway is published), signed with the keys the
credit container seeded for the demo merchants (read from its volume). The only other look inside
is the user container's SMS outbox, which stands in for a phone. A failing test gets the
containers' logs attached to its report.
"""

from __future__ import annotations

import importlib.util
import json
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests import journey

ROOT = Path(__file__).resolve().parents[2]
# Building cold (debootstrap, wheelhouse, five images) takes 11 min on two idle cores, over 20 under
# load; warm, seconds.
BUILD_TIMEOUT = 3600
PASSWORD = "Containers-Passw0rd"
CODE = re.compile(r"\b(\d{6})\b")


def _load(name: str) -> ModuleType:
    """docker/<name>.py by path: docker/ is a folder of scripts, not a package."""
    module_name = f"bnpl_docker_{name}"
    module = sys.modules.get(module_name)
    if module is None:
        spec = importlib.util.spec_from_file_location(module_name, ROOT / "docker" / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return module


stack_module = _load("stack")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def credit_url(stack: Any) -> str:
    """The credit service's merchant API as a merchant's server on this host reaches it: compose
    publishes only the gateway, so the credit container's address on the stack's default network
    (the engine routes its host to its bridge networks)."""
    inspect = subprocess.run(
        ["docker", "inspect", "--format", "{{json .NetworkSettings.Networks}}", stack.container("credit")],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    address = json.loads(inspect.stdout)[stack.network("default")]["IPAddress"]
    assert address, "the credit container has no address on the default network"
    return f"http://{address}:8002"


def merchant_credentials(stack: Any, data_dir: Path) -> Path:
    """The demo merchants' credentials the credit container seeded (its volume's
    local-merchants.json), copied to ``data_dir`` as a merchant's server would hold them."""
    result = subprocess.run(
        ["docker", "exec", stack.container("credit"), "cat", "/var/lib/bnpl/local-merchants.json"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    path = data_dir / "local-merchants.json"
    path.write_text(result.stdout)
    path.chmod(0o600)
    return path


def reach_credit(stack: Any) -> None:
    """Point the merchants' clients at the credit container's current address (after a restart)."""
    journey.merchants().retarget(credit_url(stack))


@pytest.fixture(scope="session")
def compose_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    problem = stack_module.engine_problem()
    if problem:
        pytest.skip(f"{problem}: the container tests need a Docker engine (`make test-containers` where one runs)")
    if stack_module.compose_command() is None:
        pytest.skip(
            "a Docker engine answers but there is no compose command (neither `docker compose` nor "
            "`docker-compose`): apt-get install -y docker-compose"
        )
    started = time.monotonic()
    build = subprocess.run(
        [sys.executable, str(ROOT / "docker" / "images.py"), "--no-report"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    print(build.stdout, file=sys.stderr)
    if build.returncode != 0:
        pytest.fail(f"the images did not build:\n{build.stdout[-3000:]}\n{build.stderr[-5000:]}")
    built = time.monotonic() - started
    stack = stack_module.Stack(
        project=f"bnplct{uuid.uuid4().hex[:6]}", gateway_port=_free_port(), psp_port=_free_port()
    )
    try:
        stack.up()
        healthy = stack.wait_healthy()
        print(f"containers: images ready in {built:.0f} s, stack healthy in {healthy:.0f} s", file=sys.stderr)
        data_dir = tmp_path_factory.mktemp("merchants")
        merchant_credentials(stack, data_dir)
        with journey.merchants_of(credit_url(stack), data_dir):
            yield stack
    except stack_module.StackError as exc:
        pytest.fail(f"the compose stack did not come up: {exc}")
    finally:
        stack.down(volumes=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    live = item.funcargs.get("compose_stack") if hasattr(item, "funcargs") else None
    if report.failed and live is not None:
        report.sections.append(("containers' logs", live.logs(tail=60)))


@dataclass
class Shopper:
    """A shopper of the compose stack, talking to the gateway only."""

    stack: Any
    email: str
    token: str = ""
    phone: str = ""

    @property
    def gateway(self) -> str:
        return str(self.stack.gateway)

    def post(self, query: str, variables: dict[str, Any] | None = None, *, timeout: float = 30) -> httpx.Response:
        return httpx.post(
            f"{self.stack.gateway}/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": self.token},
            timeout=timeout,
        )

    def ok(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.post(query, variables)
        body = response.json()
        assert response.status_code == 200 and not body.get("errors"), (response.status_code, body)
        return dict(body["data"])

    def cognito(self, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
        """One call to the gateway's Cognito pass-through, at the endpoint /config.json gives the page."""
        config = httpx.get(f"{self.stack.gateway}/config.json", timeout=10).json()["cognito"]
        assert config["endpoint"] == f"{self.stack.gateway}/cognito/", config
        response = httpx.post(
            config["endpoint"],
            content=json.dumps({"ClientId": config["clientId"], **payload}),
            headers={
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": f"AWSCognitoIdentityProviderService.{operation}",
            },
            timeout=10,
        )
        assert response.status_code == 200, (operation, response.status_code, response.text)
        return dict(response.json())

    def sign_up(self) -> Shopper:
        attributes = [{"Name": "email", "Value": self.email}]
        self.cognito("SignUp", {"Username": self.email, "Password": PASSWORD, "UserAttributes": attributes})
        # The local Cognito sends no e-mail and accepts any confirmation code (as the README says).
        self.cognito("ConfirmSignUp", {"Username": self.email, "ConfirmationCode": "123456"})
        return self.sign_in()

    def sign_in(self) -> Shopper:
        auth = {"USERNAME": self.email, "PASSWORD": PASSWORD}
        result = self.cognito("InitiateAuth", {"AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": auth})
        self.token = result["AuthenticationResult"]["AccessToken"]
        return self

    def verified(self, **profile: Any) -> Shopper:
        """Profile created and phone verified with the code from the user container's SMS outbox."""
        created = self.ok(journey.CREATE_PROFILE, {"input": journey.good_profile(**profile)})["createProfile"]
        self.phone = created["phoneNumber"]
        self.ok(journey.START_VERIFICATION)
        self.ok(journey.CONFIRM_VERIFICATION, {"code": read_code(self.stack, self.phone)})
        journey.add_card(self)  # on the sandbox PSP container's page, as confirming needs
        return self


def read_code(stack: Any, phone: str) -> str:
    """The last one-time code sent to ``phone``, from the outbox file in the user container's volume."""
    user = stack.container("user")
    result = subprocess.run(
        [
            "docker",
            "exec",
            user,
            "python",
            "-c",
            "import sys; sys.stdout.write(open(sys.argv[1]).read())",
            "/var/lib/bnpl/sms-outbox.jsonl",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    messages = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    bodies = [m["body"] for m in messages if m["to"] == phone]
    assert bodies, f"no SMS to {phone} in the outbox"
    match = CODE.search(bodies[-1])
    assert match, "the SMS carries no six-digit code"
    return match.group(1)


@pytest.fixture
def shopper(compose_stack: Any) -> Shopper:
    """A new shopper, signed up and in through the gateway, with a verified profile."""
    return Shopper(compose_stack, f"ct-{uuid.uuid4().hex[:10]}@example.com").sign_up().verified()
