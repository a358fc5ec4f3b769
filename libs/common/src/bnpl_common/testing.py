"""Test helpers every package uses: Cognito-shaped tokens signed with a test key, fake
AWS credentials, free ports, a moto server and real service processes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
from botocore.credentials import Credentials
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from bnpl_common.settings import LOCAL_SIGV4_ACCESS_KEY_ID, LOCAL_SIGV4_SECRET

TEST_REGION = "us-east-1"
TEST_POOL_ID = "us-east-1_TestPool1"
TEST_CLIENT_ID = "testclient0000000000000001"


def fake_aws_credentials() -> Credentials:
    """The local SigV4 key pair the services accept outside AWS."""
    return Credentials(LOCAL_SIGV4_ACCESS_KEY_ID, LOCAL_SIGV4_SECRET)


def fake_aws_environment() -> dict[str, str]:
    """Environment variables that keep boto3 away from real AWS in tests."""
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": TEST_REGION,
        "AWS_REGION": TEST_REGION,
    }


def set_fake_aws_environment(monkeypatch: Any) -> None:
    """Set :func:`fake_aws_environment` with pytest's ``monkeypatch`` (undone after the test)."""
    for name, value in fake_aws_environment().items():
        monkeypatch.setenv(name, value)


@dataclass
class TokenMinter:
    """An RSA key that mints Cognito-shaped access tokens and publishes its JWKS."""

    region: str = TEST_REGION
    pool_id: str = TEST_POOL_ID
    client_id: str = TEST_CLIENT_ID
    kid: str = field(default_factory=lambda: f"test-{uuid.uuid4().hex[:8]}")

    def __post_init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.pool_id}"

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
        jwk.update({"kid": self.kid, "alg": "RS256", "use": "sig"})
        return {"keys": [jwk]}

    def mint(
        self,
        sub: str | None = None,
        *,
        token_use: str = "access",  # noqa: S107 - a claim value
        client_id: str | None = None,
        issuer: str | None = None,
        expires_in: int = 3600,
        algorithm: str = "RS256",
        kid: str | None = None,
        extra: Mapping[str, Any] | None = None,
        omit: Sequence[str] = (),
    ) -> str:
        now = int(time.time())
        sub = sub or str(uuid.uuid4())
        claims: dict[str, Any] = {
            "sub": sub,
            "iss": issuer or self.issuer,
            "token_use": token_use,
            "client_id": client_id or self.client_id,
            "username": sub,
            "iat": now,
            "auth_time": now,
            "exp": now + expires_in,
            "jti": str(uuid.uuid4()),
        }
        claims.update(extra or {})
        for name in omit:
            claims.pop(name, None)
        key: Any = self._key if algorithm.startswith("RS") else "not-a-real-secret-but-long-enough-for-hs256"
        return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid or self.kid})


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServiceProcess:
    """A real service started as a child process, waited on until its health URL answers."""

    name: str
    args: list[str]
    health_url: str
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> ServiceProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            self.args, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log_path}")
            try:
                if httpx.get(self.health_url, timeout=0.5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not become healthy in {timeout}s; see {self.log_path}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


# moto's backends are process-wide state: one lock for every moto server of the process.
_MOTO_LOCK = threading.Lock()


@contextmanager
def moto_server(host: str = "127.0.0.1") -> Iterator[str]:
    """A moto server on a free port (real HTTP); yields its endpoint URL and stops it after.

    DynamoDB runs every request atomically; moto's in-memory backend does not (a cancelled
    transaction restores a copy of the whole table, undoing writes made meanwhile). Here moto
    runs one request at a time, so the adapters get the isolation they rely on in AWS while
    the clients still send in parallel. Clients need fake credentials: see
    :func:`fake_aws_environment`.
    """
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    app = DomainDispatcherApplication(create_backend_app)

    def serialised(environ: Any, start_response: Any) -> Any:
        with _MOTO_LOCK:
            return list(app(environ, start_response))

    server = make_server(host, 0, serialised, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="moto-server", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
