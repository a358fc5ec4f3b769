"""The whole platform on one machine: local Cognito (moto server), model server, the sandbox
PSP, user, credit and gateway services, each a real process on 127.0.0.1.

``make run`` calls ``python scripts/devstack.py run``; the end-to-end tests use
:class:`Stack` with free ports and a temporary data directory.

Local Cognito durability: moto keeps state in memory, so every call to it is recorded
(moto's own recorder) into ``<data>/cognito-recording.jsonl`` and replayed at the next
start. Moto's random generator is seeded at the very start of the recording, so a replay
recreates the same pool, client and user ``sub`` values, and profiles keyed by ``sub``
stay reachable after a restart. The recording holds every request made to the local
Cognito, passwords of sign-ups and sign-ins included: it is a local development file,
never used outside ``make run``, and the data directory is created readable by its owner
only (as are the SQLite files and the SMS outbox in it).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType

import boto3
import httpx
from bnpl_common.testing import ServiceProcess, free_port

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ARTIFACT = ROOT / "model" / "artifacts" / "credit-scorecard"
REGION = "us-east-1"
# moto accepts any credentials; these keep boto3 from looking for real ones.
LOCAL_AWS_ENV = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": REGION}


def _compose_init() -> ModuleType:
    """compose/init.py (the compose stack's one-shot init), loaded from its path: not a package."""
    module = sys.modules.get("bnpl_compose_init")
    if module is None:
        spec = importlib.util.spec_from_file_location("bnpl_compose_init", ROOT / "compose" / "init.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["bnpl_compose_init"] = module
        spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Ports:
    gateway: int = int(os.environ.get("GATEWAY_PORT", "8000"))
    user: int = int(os.environ.get("USER_PORT", "8001"))
    credit: int = int(os.environ.get("CREDIT_PORT", "8002"))
    model: int = int(os.environ.get("MODEL_PORT", "8080"))
    cognito: int = int(os.environ.get("COGNITO_PORT", "9229"))
    demo_merchant: int = int(os.environ.get("DEMO_MERCHANT_PORT", "8100"))
    # the sandbox PSP; 0: a free port, chosen when the stack starts (`make run` uses 8090)
    psp: int = int(os.environ.get("PSP_SANDBOX_PORT", "0"))


class LocalCognito:
    """The moto server's Cognito API, with a durable pool and app client."""

    def __init__(self, *, port: int, data_dir: Path, host: str = "127.0.0.1") -> None:
        self.endpoint = f"http://{host}:{port}"
        self.recording = data_dir / "cognito-recording.jsonl"
        self.process = ServiceProcess(
            name="cognito",
            args=[sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)],
            health_url=f"{self.endpoint}/moto-api/",
            env={
                **LOCAL_AWS_ENV,
                "MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY": "HASH",
                "MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY": "HASH",
                "MOTO_RECORDER_FILEPATH": str(self.recording),
            },
            log_path=data_dir / "logs" / "cognito.log",
        )
        self.pool_id = ""
        self.client_id = ""

    def client(self):
        return boto3.client(
            "cognito-idp",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def start(self) -> LocalCognito:
        self.process.start()
        if self.recording.exists() and self.recording.stat().st_size > 0:
            httpx.post(f"{self.endpoint}/moto-api/recorder/replay-recording", timeout=60).raise_for_status()
            httpx.post(f"{self.endpoint}/moto-api/recorder/start-recording").raise_for_status()
        else:
            httpx.post(f"{self.endpoint}/moto-api/recorder/start-recording").raise_for_status()
            httpx.post(f"{self.endpoint}/moto-api/seed?a=20261128").raise_for_status()
        self._ensure_pool()
        return self

    def _ensure_pool(self) -> None:
        # compose/init.py's pool and client: moto's HASH ids hash their settings, so one definition.
        self.pool_id, self.client_id = _compose_init().ensure_pool(self.client())

    def sign_up(self, email: str, password: str) -> str:
        """Sign a user up through the public API and confirm them (locally, as an admin would)."""
        idp = self.client()
        sub = idp.sign_up(
            ClientId=self.client_id,
            Username=email,
            Password=password,
            UserAttributes=[{"Name": "email", "Value": email}],
        )["UserSub"]
        idp.admin_confirm_sign_up(UserPoolId=self.pool_id, Username=email)
        return str(sub)

    def access_token(self, email: str, password: str) -> str:
        """Sign in with USER_PASSWORD_AUTH and return the access token."""
        result = self.client().initiate_auth(
            ClientId=self.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
        return str(result["AuthenticationResult"]["AccessToken"])

    def describe(self) -> dict[str, str]:
        return {"endpoint": self.endpoint, "region": REGION, "userPoolId": self.pool_id, "clientId": self.client_id}

    def add_staff(self, email: str, password: str, group: str) -> str:
        """A staff user in ``group`` (``operations`` or ``operations-risk``): the group's name
        is in the user's access tokens as ``cognito:groups``."""
        idp = self.client()
        with contextlib.suppress(idp.exceptions.GroupExistsException):
            idp.create_group(GroupName=group, UserPoolId=self.pool_id)
        sub = self.sign_up(email, password)
        idp.admin_add_user_to_group(UserPoolId=self.pool_id, Username=email, GroupName=group)
        return sub


def seed_staff(cognito: LocalCognito, data_dir: Path) -> Path:
    """One reviewer and one approver, written to ``<data>/local-staff.json`` (kept across restarts:
    the Cognito recording replays them)."""
    path = data_dir / "local-staff.json"
    if path.exists():
        return path
    staff = {}
    for role, group in (("reviewer", "operations"), ("approver", "operations-risk")):
        email = f"{role}@ops.bnpl.invalid"
        password = f"Ops-{secrets.token_urlsafe(12)}-9a"
        cognito.add_staff(email, password, group)
        staff[role] = {"email": email, "password": password}
    path.write_text(json.dumps(staff, indent=2) + "\n")
    return path


@dataclass
class Stack:
    """Every process of the platform, started in dependency order and stopped in reverse."""

    data_dir: Path
    ports: Ports = field(default_factory=Ports)
    host: str = "127.0.0.1"
    artifact_dir: Path = DEFAULT_ARTIFACT
    extra_env: dict[str, str] = field(default_factory=dict)
    # per process, after extra_env (e.g. {"gateway": {"PSP": "stripe"}}: a name two services read)
    env_of: dict[str, dict[str, str]] = field(default_factory=dict)
    # The demo merchant (examples/demo_merchant) on ports.demo_merchant: `make run` and the tests
    # that shop there start it; the rest of the platform does not need it.
    demo_merchant: bool = False
    cognito: LocalCognito | None = None
    services: dict[str, ServiceProcess] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.ports.psp:
            self.ports = replace(self.ports, psp=free_port())

    def url(self, name: str) -> str:
        return f"http://{self.host}:{getattr(self.ports, name)}"

    def service_env(self) -> dict[str, str]:
        assert self.cognito is not None
        return {
            **LOCAL_AWS_ENV,
            "BNPL_ENV": "local",
            "AWS_REGION": REGION,
            "COGNITO_USER_POOL_ID": self.cognito.pool_id,
            "COGNITO_CLIENT_IDS": self.cognito.client_id,
            "COGNITO_ENDPOINT": self.cognito.endpoint,
            "USER_DB_PATH": str(self.data_dir / "user.sqlite3"),
            "SMS_NOTIFIER": "outbox",
            "SMS_OUTBOX_PATH": str(self.data_dir / "sms-outbox.jsonl"),
            "CREDIT_DB_PATH": str(self.data_dir / "credit.sqlite3"),
            "DOCUMENTS_DIR": str(self.data_dir / "documents"),
            "LAKE_DIR": str(self.data_dir / "lake"),
            "SCORER": "http",
            "MODEL_URL": self.url("model"),
            "USER_SERVICE_URL": self.url("user"),
            "CREDIT_SERVICE_URL": self.url("credit"),
            "GATEWAY_PUBLIC_URL": self.url("gateway"),
            # the credit service charges installments through the sandbox PSP
            "PSP": "sandbox",
            "PSP_SANDBOX_URL": self.url("psp"),
            "PAYMENT_COLLECTION": "psp",
            # traces as JSON lines, one file per process (python -m bnpl_common.traces show ID)
            "TRACES_DIR": str(self.data_dir / "traces"),
            "OTEL_BSP_SCHEDULE_DELAY": "1000",
            **self.extra_env,
        }

    def _process(self, name: str, args: list[str], health: str) -> ServiceProcess:
        return ServiceProcess(
            name=name,
            args=args,
            health_url=f"{self.url(name)}{health}",
            env=self.service_env(),
            log_path=self.data_dir / "logs" / f"{name}.log",
        )

    def _service(self, name: str) -> ServiceProcess:
        """``python -m bnpl_<name>``: the same entry point as the container images (JSON logs)."""
        proc = self._process(name, [sys.executable, "-m", f"bnpl_{name}"], "/readyz")
        proc.env[f"{name.upper()}_HOST"] = self.host
        proc.env[f"{name.upper()}_PORT"] = str(getattr(self.ports, name))
        return proc

    def build(self) -> None:
        self.services = {
            "model": self._process(
                "model",
                [
                    sys.executable,
                    "-m",
                    "bnpl_model",
                    "serve",
                    "--artifact",
                    str(self.artifact_dir),
                    "--host",
                    self.host,
                    "--port",
                    str(self.ports.model),
                ],
                "/ping",
            ),
            "psp": self._psp(),
            "user": self._service("user"),
            "credit": self._service("credit"),
            "gateway": self._service("gateway"),
        }
        if self.demo_merchant:
            self.services["demo_merchant"] = self._demo_merchant()
        for name, env in self.env_of.items():
            self.services[name].env.update(env)

    def _psp(self) -> ServiceProcess:
        """The sandbox PSP (services/psp-sandbox): Stripe's API subset and its own card page."""
        proc = self._process("psp", [sys.executable, "-m", "bnpl_psp_sandbox"], "/livez")
        proc.env.update(
            {
                "PSP_SANDBOX_HOST": self.host,
                "PSP_SANDBOX_PORT": str(self.ports.psp),
                "PSP_SANDBOX_DATA_DIR": str(self.data_dir / "psp-sandbox"),
                "PSP_SANDBOX_LOG_LEVEL": "INFO",
                # its signed events go to the credit service, as Stripe's go to its endpoint in AWS
                "PSP_SANDBOX_WEBHOOK_URL": f"{self.url('credit')}/v1/psp/webhooks",
            }
        )
        return proc

    def _demo_merchant(self) -> ServiceProcess:
        """The demo shops, a merchant's own server: it reads the keys `local-merchants.json` holds."""
        proc = self._process("demo_merchant", [sys.executable, "-m", "bnpl_demo_merchant"], "/livez")
        proc.env.update(
            {
                "DEMO_MERCHANT_HOST": self.host,
                "DEMO_MERCHANT_PORT": str(self.ports.demo_merchant),
                "DEMO_MERCHANT_PUBLIC_URL": self.url("demo_merchant"),
                "DEMO_MERCHANT_API_URL": self.url("credit"),
                "DEMO_MERCHANT_REGION": REGION,
                "DEMO_MERCHANT_CREDENTIALS_FILE": str(self.data_dir / "local-merchants.json"),
                "DEMO_MERCHANT_DATA_DIR": str(self.data_dir / "demo-merchant"),
            }
        )
        return proc

    def start(self) -> Stack:
        # Local passwords (Cognito recording), one-time codes (SMS outbox) and personal data
        # (SQLite) live here: owner-only, and so is everything the children create in it.
        os.umask(0o077)
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        if not (self.artifact_dir / "model.json").exists():
            raise SystemExit(f"model artifact missing at {self.artifact_dir}; run `make model`")
        self.cognito = LocalCognito(port=self.ports.cognito, data_dir=self.data_dir, host=self.host)
        try:  # whatever fails on the way, nothing started is left running
            self.cognito.start()
            (self.data_dir / "local-cognito.json").write_text(json.dumps(self.cognito.describe(), indent=2) + "\n")
            seed_staff(self.cognito, self.data_dir)
            self.build()
            self.seed_merchants()
            for proc in self.services.values():
                proc.start()
        except BaseException:
            self.stop()
            raise
        return self

    @property
    def merchants_file(self) -> Path:
        return self.data_dir / "local-merchants.json"

    def seed_merchants(self) -> dict[str, dict[str, object]]:
        """Create demo-shop and demo-books in the credit store once (later starts keep their keys)
        and write their credentials to ``local-merchants.json``, as the credit service's CLI does."""
        port = getattr(self.ports, "demo_merchant", int(os.environ.get("DEMO_MERCHANT_PORT", "8100")))
        args = [
            "-m",
            "bnpl_credit.merchants",
            "--json",
            "seed-demo",
            "--port",
            str(port),
            "--out",
            str(self.merchants_file),
        ]
        env = {**os.environ, **self.service_env()}
        subprocess.run([sys.executable, *args], env=env, check=True, capture_output=True, timeout=60)
        merchants: dict[str, dict[str, object]] = json.loads(self.merchants_file.read_text())
        return merchants

    def merchants(self) -> dict[str, dict[str, object]]:
        """The demo merchants' credentials (``local-merchants.json``)."""
        loaded: dict[str, dict[str, object]] = json.loads(self.merchants_file.read_text())
        return loaded

    def restart(self, *names: str) -> None:
        for name in names:
            self.services[name].stop()
        for name in names:
            self.services[name].start()

    def stop(self) -> None:
        for proc in reversed(list(self.services.values())):
            proc.stop()
        if self.cognito is not None:
            self.cognito.process.stop()


def _banner(stack: Stack) -> str:
    assert stack.cognito is not None
    gw = stack.url("gateway")
    return f"""
BNPL platform is running (Ctrl-C stops everything).

  Demo shop (start here)  {stack.url("demo_merchant")}/   (demo-books: {stack.url("demo_merchant")}/books/)
  Checkout page           {gw}/checkout/
  GraphQL API + GraphiQL  {gw}/graphql
  user service            {stack.url("user")}/docs
  credit service          {stack.url("credit")}/docs
  model server            {stack.url("model")}/ping
  sandbox PSP (cards)     {stack.url("psp")}/  (Stripe's test cards: 4242 4242 4242 4242)
  local Cognito           {stack.cognito.endpoint}  (pool {stack.cognito.pool_id}, client {stack.cognito.client_id})

  Cognito details         {stack.data_dir / "local-cognito.json"}
  merchant keys (demo)    {stack.merchants_file}
  Operations console      {gw}/ops/  (staff sign-ins in {stack.data_dir / "local-staff.json"})
  SMS outbox (codes)      {stack.data_dir / "sms-outbox.jsonl"}
  logs                    {stack.data_dir / "logs"}/

Get an access token for a new or existing local user:
  .venv/bin/python scripts/local_user.py --email you@example.com --password 'Passw0rd!'
Walk the whole journey (good and poor profile):
  .venv/bin/python scripts/walkthrough.py
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["run"])
    parser.add_argument("--data-dir", default=str(ROOT / ".data"))
    args = parser.parse_args()
    ports = Ports()
    stack = Stack(
        data_dir=Path(args.data_dir), ports=ports if ports.psp else replace(ports, psp=8090), demo_merchant=True
    )

    def _stop(*_: object) -> None:
        raise KeyboardInterrupt

    # Explicitly: a shell that starts us in the background leaves SIGINT ignored.
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        stack.start()
        print(_banner(stack), flush=True)
        while True:
            for name, proc in stack.services.items():
                if proc.proc is not None and proc.proc.poll() is not None:
                    raise SystemExit(f"{name} exited; see {proc.log_path}")
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nstopping...", flush=True)
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
