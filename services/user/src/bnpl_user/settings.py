"""Settings of the user service (environment variables, no prefix)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from bnpl_common.profile_signature import LOCAL_PROFILE_SIGNING_KEY_ID, LOCAL_PROFILE_SIGNING_SEED, private_key
from bnpl_common.settings import CommonSettings
from pydantic import Field, field_validator, model_validator

from bnpl_user.persons import LOCAL_PERSON_KEY_SECRET


class Settings(CommonSettings):
    """What the user service reads on top of the common settings."""

    placeholder_secrets: ClassVar[frozenset[str]] = CommonSettings.placeholder_secrets | {
        LOCAL_PERSON_KEY_SECRET,
        LOCAL_PROFILE_SIGNING_SEED,
    }

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
    # one person, one credit line: key of the HMAC that names a person across accounts
    person_key_secret: str = Field(default=LOCAL_PERSON_KEY_SECRET, min_length=16)
    # the profile snapshot the credit service decides on is signed with this Ed25519 seed
    profile_signing_key: str = LOCAL_PROFILE_SIGNING_SEED
    profile_signing_key_id: str = Field(default=LOCAL_PROFILE_SIGNING_KEY_ID, pattern=r"^[A-Za-z0-9_-]{1,32}$")
    # declared finances: at most this many changes per rolling period (then 429)
    finance_edits_per_period: int = Field(default=3, ge=1, le=100)
    finance_edit_period_days: int = Field(default=30, ge=1, le=365)
    user_host: str = "127.0.0.1"
    user_port: int = Field(default=8001, ge=1, le=65535)

    def secret_values(self) -> dict[str, str]:
        return {
            **super().secret_values(),
            "OTP_PEPPER": self.otp_pepper,
            "PERSON_KEY_SECRET": self.person_key_secret,
            "PROFILE_SIGNING_KEY": self.profile_signing_key,
        }

    @field_validator("profile_signing_key")
    @classmethod
    def _signing_key(cls, value: str) -> str:
        private_key(value)  # a clear error at start-up, not at the first signature
        return value

    @model_validator(mode="after")
    def _no_outbox_in_aws(self) -> Settings:
        # The outbox writes one-time codes to a file: fine on a laptop, never in AWS.
        if self.bnpl_env == "aws" and self.sms_notifier == "outbox":
            raise ValueError(
                "SMS_NOTIFIER=outbox is for local use; set SMS_NOTIFIER=end-user-messaging for BNPL_ENV=aws"
            )
        return self
