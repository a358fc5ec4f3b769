"""Fixtures: a fresh SQLite file per test, a fixed clock, a fake scorer at the port, signed calls."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bnpl_common.clock import FixedClock
from bnpl_common.testing import TEST_CLIENT_ID, TEST_POOL_ID, TokenMinter
from bnpl_credit.main import create_app
from bnpl_credit.settings import Settings
from bnpl_credit.testing import NOW, Api, FakeScorer
from fastapi.testclient import TestClient


@pytest.fixture(scope="session")
def minter() -> TokenMinter:
    """One RSA key per session: key generation is the slowest thing in these tests."""
    return TokenMinter()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def scorer() -> FakeScorer:
    return FakeScorer()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        bnpl_env="test",
        credit_db_path=str(tmp_path / "credit.sqlite3"),
        cognito_user_pool_id=TEST_POOL_ID,
        cognito_client_ids=[TEST_CLIENT_ID],
        scorer_timeout_seconds=0.3,
    )


@pytest.fixture
def client(settings: Settings, minter: TokenMinter, clock: FixedClock, scorer: FakeScorer) -> Iterator[TestClient]:
    async def fetch() -> dict[str, Any]:
        return minter.jwks()

    app = create_app(settings, fetch_jwks=fetch, clock=clock, scorer=scorer)
    with TestClient(app) as tc:
        yield tc


@pytest.fixture
def api(client: TestClient, minter: TokenMinter) -> Api:
    return Api(client, minter)


@pytest.fixture
def other(client: TestClient, minter: TokenMinter) -> Api:
    return Api(client, minter)


# -- storage adapters: SQLite file, DynamoDB on a moto server (real HTTP, like production) -----


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A moto server on a free port. Real DynamoDB runs each conditional write and transaction
    atomically; moto's in-memory backend does not lock, so requests are serialised here to
    give the adapter the isolation it relies on in AWS."""
    import threading

    from bnpl_common.testing import fake_aws_environment, free_port
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication
    from moto.server import ThreadedMotoServer

    for name, value in fake_aws_environment().items():
        os.environ.setdefault(name, value)
    lock = threading.RLock()
    original = DomainDispatcherApplication.__call__

    def serialised(self: Any, environ: Any, start_response: Any) -> Any:
        with lock:
            return list(original(self, environ, start_response))

    DomainDispatcherApplication.__call__ = serialised  # type: ignore[method-assign]
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        DomainDispatcherApplication.__call__ = original  # type: ignore[method-assign]


def make_store(kind: str, tmp_path: Path, moto_endpoint: str | None = None) -> Any:
    if kind == "sqlite":
        from bnpl_credit.storage.sqlite import SqliteStore

        return SqliteStore(tmp_path / "store.sqlite3")
    from bnpl_credit.storage.dynamodb import DynamoStore, dynamodb_client
    from bnpl_credit.storage.table import create_table

    client = dynamodb_client(region="us-east-1", endpoint_url=moto_endpoint)
    name = f"bnpl-credit-{uuid.uuid4().hex[:8]}"
    create_table(client, name)
    return DynamoStore(client, table_name=name)


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    endpoint = request.getfixturevalue("moto_endpoint") if request.param == "dynamodb" else None
    return make_store(request.param, tmp_path, endpoint)
