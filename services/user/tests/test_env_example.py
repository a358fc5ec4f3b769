"""The repository's .env.example is a working .env for the user service (names and values valid)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from bnpl_user.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[3] / ".env.example"


def test_the_example_dotenv_is_read_and_valid(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path / ".env")
    monkeypatch.chdir(tmp_path)
    for name in ("BNPL_ENV", "COGNITO_ENDPOINT", "USER_DB_PATH", "SMS_OUTBOX_PATH", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.cognito_endpoint == "http://127.0.0.1:9229"
    assert settings.user_db_path == Path(".data/user.sqlite3")
    assert settings.bnpl_env == "local"
