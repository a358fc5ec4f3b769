"""Fixtures: a fresh SQLite file and outbox per test, a settable clock, signed calls."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from bnpl_common.clock import FixedClock
from bnpl_common.testing import TEST_CLIENT_ID, TEST_POOL_ID, TokenMinter
from bnpl_user.settings import Settings
from bnpl_user.testing import UserApi, in_process_client


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
def settings(tmp_path: Path) -> Settings:
    return Settings(
        bnpl_env="test",
        log_level="DEBUG",
        cognito_user_pool_id=TEST_POOL_ID,
        cognito_client_ids=[TEST_CLIENT_ID],
        user_db_path=tmp_path / "db" / "user.sqlite3",
        sms_outbox_path=tmp_path / "sms-outbox.jsonl",
    )


@pytest.fixture
def api(settings: Settings, minter: TokenMinter, clock: FixedClock) -> Iterator[UserApi]:
    with in_process_client(settings, minter=minter, clock=clock) as client:
        yield UserApi(client, minter, settings.sms_outbox_path)
