"""Credit service settings (environment variables, no prefix)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from bnpl_common.settings import CommonSettings

PACKAGED_POLICY = Path(__file__).parent / "policies" / "policy-2026-11-01.json"


class Settings(CommonSettings):
    """What the credit service reads from its environment."""

    credit_db_path: str = ".data/credit.sqlite3"
    scorer: Literal["http", "inprocess", "sagemaker"] = "http"
    model_url: str = "http://127.0.0.1:8080"
    model_artifact_dir: str | None = None
    sagemaker_endpoint_name: str | None = None
    scorer_timeout_seconds: float = 2.0
    policy_path: str = str(PACKAGED_POLICY)
    credit_host: str = "127.0.0.1"
    credit_port: int = 8002
