"""Fixtures: a fresh SQLite file per test, a fixed clock, a fake scorer at the port, signed calls."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bnpl_common.clock import FixedClock
from bnpl_common.dynamodb import dynamodb_client
from bnpl_common.settings import CommonSettings
from bnpl_common.testing import (
    TEST_CLIENT_ID,
    TEST_POOL_ID,
    TEST_REGION,
    TokenMinter,
    moto_server,
    set_fake_aws_environment,
)
from bnpl_credit.disclosures.settings import DocumentSettings
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
def document_settings(tmp_path: Path) -> DocumentSettings:
    # documents are rendered when first read; test_documents_service checks the render at decision time
    return DocumentSettings(bnpl_env="test", documents_dir=str(tmp_path / "documents"), document_prerender=False)


@pytest.fixture
def client(
    settings: Settings,
    minter: TokenMinter,
    clock: FixedClock,
    scorer: FakeScorer,
    document_settings: DocumentSettings,
) -> Iterator[TestClient]:
    async def fetch() -> dict[str, Any]:
        return minter.jwks()

    app = create_app(settings, fetch_jwks=fetch, clock=clock, scorer=scorer, document_settings=document_settings)
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
    """One moto server (one request at a time, like DynamoDB's atomic requests) for the whole run."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, so boto3 never finds real ones."""
    set_fake_aws_environment(monkeypatch)


def make_store(kind: str, tmp_path: Path, moto_endpoint: str | None = None) -> Any:
    if kind == "sqlite":
        from bnpl_credit.storage.sqlite import SqliteStore

        return SqliteStore(tmp_path / "store.sqlite3")
    from bnpl_credit.storage.dynamodb import DynamoStore
    from bnpl_credit.storage.table import create_table

    client = dynamodb_client(CommonSettings(bnpl_env="test", aws_region=TEST_REGION), endpoint_url=moto_endpoint)
    name = f"bnpl-credit-{uuid.uuid4().hex[:8]}"
    create_table(client, name)
    return DynamoStore(client, table_name=name)


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    endpoint = None
    if request.param == "dynamodb":
        request.getfixturevalue("aws_env")  # the client reads its credentials when it is made
        endpoint = request.getfixturevalue("moto_endpoint")
    return make_store(request.param, tmp_path, endpoint)
