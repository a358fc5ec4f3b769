"""Fixtures: a fresh SQLite file (or DynamoDB table) and outbox per test, a settable clock,
signed calls, and one moto server (real HTTP) for the DynamoDB adapter."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from bnpl_common.clock import FixedClock
from bnpl_common.testing import (
    TEST_CLIENT_ID,
    TEST_POOL_ID,
    TEST_REGION,
    TokenMinter,
    fake_aws_environment,
    moto_server,
    set_fake_aws_environment,
)
from bnpl_user.settings import Settings
from bnpl_user.storage.table import create_table
from bnpl_user.testing import UserApi, in_process_client


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """One moto server (one request at a time, like DynamoDB's atomic requests) for the whole run."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, so boto3 never finds real ones."""
    set_fake_aws_environment(monkeypatch)


@pytest.fixture(scope="session")
def dynamodb_client(moto_endpoint: str) -> Any:
    """One client for the run (making one costs about half a second)."""
    import boto3
    from botocore.config import Config

    fake = fake_aws_environment()
    return boto3.session.Session().client(
        "dynamodb",
        region_name=TEST_REGION,
        endpoint_url=moto_endpoint,
        aws_access_key_id=fake["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=fake["AWS_SECRET_ACCESS_KEY"],
        config=Config(max_pool_connections=32),  # the concurrency tests send a dozen requests at once
    )


@pytest.fixture
def dynamodb_table(dynamodb_client: Any) -> Iterator[str]:
    """A fresh table (from ``table.json``) per test."""
    name = f"bnpl-user-test-{uuid.uuid4().hex[:12]}"
    create_table(dynamodb_client, name)
    yield name
    dynamodb_client.delete_table(TableName=name)


@pytest.fixture
def store(request: pytest.FixtureRequest) -> str:
    """The storage adapter of the app under test: sqlite unless a test parametrises it (indirect)."""
    return getattr(request, "param", "sqlite")


@pytest.fixture(autouse=True)
def _restore_root_logging() -> Iterator[None]:
    # The app's lifespan reconfigures the root logger; give the next test a clean one.
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="session")
def minter() -> TokenMinter:
    # One RSA key for the run: generating one per test costs most of the suite's time.
    return TokenMinter()


@pytest.fixture
def clock() -> FixedClock:
    """2026-03-15 12:00 UTC: someone born 2008-03-16 turns 18 tomorrow."""
    return FixedClock(datetime(2026, 3, 15, 12, 0, tzinfo=UTC))


@pytest.fixture
def settings(tmp_path: Path, store: str, request: pytest.FixtureRequest) -> Settings:
    settings = Settings(
        user_store="sqlite",
        bnpl_env="test",
        log_level="DEBUG",
        cognito_user_pool_id=TEST_POOL_ID,
        cognito_client_ids=[TEST_CLIENT_ID],
        user_db_path=tmp_path / "db" / "user.sqlite3",
        sms_outbox_path=tmp_path / "sms-outbox.jsonl",
    )
    if store == "dynamodb":
        request.getfixturevalue("aws_env")  # the app's boto3 client reads its credentials from there
        dynamodb = {
            "user_store": "dynamodb",
            "user_table": request.getfixturevalue("dynamodb_table"),
            "dynamodb_endpoint": request.getfixturevalue("moto_endpoint"),
            "aws_region": TEST_REGION,
        }
        settings = settings.model_copy(update=dynamodb)
    return settings


@pytest.fixture
def api(settings: Settings, minter: TokenMinter, clock: FixedClock) -> Iterator[UserApi]:
    with in_process_client(settings, minter=minter, clock=clock) as client:
        yield UserApi(client, minter, settings.sms_outbox_path)
