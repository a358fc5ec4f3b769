"""Settings of the user service (environment variables, no prefix)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from bnpl_common.settings import CommonSettings
from pydantic import Field, model_validator


class Settings(CommonSettings):
    """What the user service reads on top of the common settings."""

    user_store: Literal["sqlite", "dynamodb"] = "sqlite"
    user_db_path: Path = Path(".data/user.sqlite3")
    user_table: str = Field(default="bnpl-user", min_length=3, max_length=255, pattern=r"^[A-Za-z0-9_.-]+$")
    dynamodb_endpoint: str | None = None
    sms_notifier: Literal["outbox", "end-user-messaging"] = "outbox"
    sms_outbox_path: Path = Path(".data/sms-outbox.jsonl")
    sms_origination_identity: str | None = None
    otp_pepper: str = "local-only-otp-pepper"
    otp_ttl_seconds: int = Field(default=600, ge=60, le=3600)
    otp_max_attempts: int = Field(default=5, ge=1, le=20)
    otp_resend_seconds: int = Field(default=30, ge=0, le=3600)
    # rolling 24 h caps: codes sent per customer and per phone number (across customers), wrong codes per customer
    otp_daily_codes_per_customer: int = Field(default=5, ge=1, le=100)
    otp_daily_codes_per_number: int = Field(default=5, ge=1, le=100)
    otp_daily_wrong_codes: int = Field(default=10, ge=1, le=100)
    user_host: str = "127.0.0.1"
    user_port: int = Field(default=8001, ge=1, le=65535)

    def secret_values(self) -> dict[str, str]:
        return {**super().secret_values(), "OTP_PEPPER": self.otp_pepper}

    @model_validator(mode="after")
    def _no_outbox_in_aws(self) -> Settings:
        # The outbox writes one-time codes to a file: fine on a laptop, never in AWS.
        if self.bnpl_env == "aws" and self.sms_notifier == "outbox":
            raise ValueError(
                "SMS_NOTIFIER=outbox is for local use; set SMS_NOTIFIER=end-user-messaging for BNPL_ENV=aws"
            )
        return self
