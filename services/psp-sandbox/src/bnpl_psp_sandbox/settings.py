"""Sandbox settings: environment variables with the ``PSP_SANDBOX_`` prefix."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from bnpl_common.settings import aws_runtime_marker, split_csv
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Public local-only keys: the sandbox moves no money, and refuses to run on AWS at all.
LOCAL_API_KEY = "sk_test_sandbox_local_only"
LOCAL_WEBHOOK_SECRET = "whsec_sandbox_local_only"  # noqa: S105 - a public local placeholder


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PSP_SANDBOX_", extra="ignore", frozen=True)

    host: str = "127.0.0.1"
    port: int = 8090
    data_dir: Path = Path(".data/psp-sandbox")
    api_key: str = LOCAL_API_KEY
    webhook_secret: str = LOCAL_WEBHOOK_SECRET
    # where signed events are POSTed (Stripe's webhook endpoint); unset: kept, readable at /v1/events
    webhook_url: str | None = None
    webhook_max_attempts: int = Field(default=8, ge=1)
    # hosts the card page may send the shopper back to (any port); an open redirect otherwise
    return_url_hosts: Annotated[list[str], NoDecode] = ["127.0.0.1", "localhost"]
    # how long a SEPA Direct Debit (and its refund) stays ``processing`` before it settles
    sepa_settle_seconds: float = Field(default=5.0, ge=0)
    log_level: str = "INFO"

    _split = field_validator("return_url_hosts", mode="before")(split_csv)

    @model_validator(mode="after")
    def _local_only(self) -> Settings:
        marker = aws_runtime_marker()
        if marker is not None:
            raise ValueError(f"the sandbox PSP is for local runs and tests only, but {marker} is set (AWS)")
        if not self.webhook_secret.startswith("whsec_"):
            raise ValueError("PSP_SANDBOX_WEBHOOK_SECRET must look like Stripe's: whsec_...")
        return self

    @property
    def db_path(self) -> Path:
        return self.data_dir / "psp-sandbox.sqlite3"
