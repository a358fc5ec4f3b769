"""Fixtures: a fresh SQLite file per test, a fixed clock, a fake scorer at the port, signed calls."""

from __future__ import annotations

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
