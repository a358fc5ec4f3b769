"""Credit service settings (environment variables, no prefix)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar, Literal

from bnpl_common.profile_signature import LOCAL_PROFILE_SIGNING_KEY_ID, LOCAL_PROFILE_VERIFY_KEY, parse_verify_keys
from bnpl_common.settings import CommonSettings
from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode

from bnpl_credit.refunds.auth import MerchantKey
from bnpl_credit.webhooks.model import DEFAULT_RETRY_CEILINGS, DEFAULT_RETRY_WINDOW

PACKAGED_POLICY = Path(__file__).parent / "policies" / "policy-2026-11-30.json"

# Local-only merchant integration key (refunds); known to everyone, refused for BNPL_ENV=aws.
LOCAL_MERCHANT_ACCESS_KEY_ID = "AKIALOCALMERCHANT001"
LOCAL_MERCHANT_SECRET = "local-only-merchant-secret-not-for-production"  # noqa: S105 - placeholder, refused in aws
# Local-only key of the lake's customer pseudonyms; refused for BNPL_ENV=aws.
LOCAL_LAKE_PSEUDONYM_KEY = "local-only-lake-pseudonym-key-not-for-production"


class Settings(CommonSettings):
    """What the credit service reads from its environment."""

    placeholder_secrets: ClassVar[frozenset[str]] = CommonSettings.placeholder_secrets | {
        LOCAL_MERCHANT_SECRET,
        LOCAL_LAKE_PSEUDONYM_KEY,
    }

    credit_store: Literal["sqlite", "dynamodb"] = "sqlite"
    credit_db_path: str = ".data/credit.sqlite3"
    credit_table: str = "bnpl-credit"
    dynamodb_endpoint: str | None = None
    idempotency_ttl_hours: int = Field(default=48, ge=24)

    scorer: Literal["http", "inprocess", "sagemaker"] = "http"
    model_url: str = "http://127.0.0.1:8080"
    model_artifact_dir: str | None = None
    sagemaker_endpoint_name: str | None = None
    scorer_timeout_seconds: float = 2.0
    # shadow scoring: a challenger that scores every decision beside the champion; its score is
    # stored with the decision and sent to the lake, never used (unset: no shadow)
    shadow_model_url: str | None = None  # the SageMaker contract over HTTP (a second model server)
    shadow_sagemaker_endpoint_name: str | None = None  # AWS: the challenger's endpoint
    policy_path: str = str(PACKAGED_POLICY)
    credit_host: str = "127.0.0.1"
    credit_port: int = 8002

    # ``ACCESS_KEY_ID:SECRET[:MERCHANT_ID]`` of merchant integrations allowed to refund, comma separated
    merchant_auth_keys: Annotated[dict[str, MerchantKey], NoDecode] = Field(
        default_factory=lambda: {LOCAL_MERCHANT_ACCESS_KEY_ID: MerchantKey(LOCAL_MERCHANT_SECRET, None)}
    )
    # In AWS the merchant API (API Gateway, IAM auth) verifies the merchant's role and passes its
    # ARN in X-Bnpl-Caller-Arn: ``apigateway-iam`` maps role ARNs to merchants through
    # ``MERCHANT_PRINCIPALS=roleArn=merchantId,...`` (``*``: a payment-service role, any merchant).
    merchant_auth_mode: Literal["sigv4", "apigateway-iam"] = "sigv4"
    merchant_principals: Annotated[dict[str, str | None], NoDecode] = Field(default_factory=dict)
    # merchant registry and checkout sessions
    merchant_key_cache_seconds: float = Field(default=5.0, ge=0, le=60)
    checkout_session_ttl_minutes: int = Field(default=60, ge=1, le=24 * 60)
    authorization_ttl_days: float = Field(default=28, gt=0, le=90)
    gateway_public_url: str = "http://127.0.0.1:8000"

    # outbox relay and lateness sweeper
    event_publisher: Literal["log", "eventbridge", "none"] = "log"
    event_bus_name: str = "default"
    relay_interval_seconds: float = Field(default=1.0, gt=0)
    sweep_interval_seconds: float = Field(default=60.0, gt=0)

    # webhooks to merchants (bnpl_credit.webhooks): fanned out by the relay, sent by the dispatcher
    webhook_dispatcher: bool = True
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=30)
    # backoff ceilings of successive retries (full jitter: each waits a random time up to its
    # ceiling; the last one repeats), retried for WEBHOOK_RETRY_WINDOW_SECONDS before FAILED
    webhook_retry_schedule_seconds: Annotated[tuple[float, ...], NoDecode] = DEFAULT_RETRY_CEILINGS
    webhook_retry_window_seconds: float = Field(default=DEFAULT_RETRY_WINDOW.total_seconds(), gt=0)
    webhook_dispatch_interval_seconds: float = Field(default=1.0, gt=0)
    webhook_concurrency_per_merchant: int = Field(default=4, ge=1, le=64)
    webhook_max_in_flight: int = Field(default=64, ge=1, le=1024)
    # profile snapshots: ``KEY_ID:BASE64URL_ED25519_PUBLIC_KEY,...`` of the user service, and how
    # old a signature may be (the gateway reads the profile just before it applies)
    profile_verify_keys: str = f"{LOCAL_PROFILE_SIGNING_KEY_ID}:{LOCAL_PROFILE_VERIFY_KEY}"
    profile_snapshot_max_age_seconds: int = Field(default=300, ge=10, le=3600)
    # declared-finance shopping: an application within this window after a decline, on finances
    # changed by at least this share (or a changed employment or housing), goes to review
    finance_review_window_hours: int = Field(default=720, ge=0, le=24 * 365)
    finance_material_change_percent: int = Field(default=10, ge=1, le=1000)
    # data lake: locally the relay also writes every event as Parquet under LAKE_DIR (unset: no
    # lake); in AWS (EVENT_PUBLISHER=eventbridge) Firehose writes it. Either way customer ids are
    # replaced by an HMAC under LAKE_PSEUDONYM_KEY (a real secret is required in AWS)
    lake_dir: str | None = None
    lake_pseudonym_key: str = LOCAL_LAKE_PSEUDONYM_KEY

    # test-only: seconds of offset read from this file on every now(); refused for BNPL_ENV=aws
    clock_offset_file: str | None = None

    @field_validator("merchant_auth_keys", mode="before")
    @classmethod
    def _parse_merchant_keys(cls, value: object) -> object:
        if isinstance(value, str):
            keys: dict[str, MerchantKey] = {}
            for item in (part.strip() for part in value.split(",")):
                if not item:
                    continue
                parts = item.split(":")
                if len(parts) not in (2, 3) or not all(parts):
                    raise ValueError("MERCHANT_AUTH_KEYS must be ACCESS_KEY_ID:SECRET[:MERCHANT_ID][,...]")
                keys[parts[0]] = MerchantKey(parts[1], parts[2] if len(parts) == 3 else None)
            return keys
        return value

    @field_validator("merchant_principals", mode="before")
    @classmethod
    def _parse_merchant_principals(cls, value: object) -> object:
        if isinstance(value, str):
            principals: dict[str, str | None] = {}
            for item in (part.strip() for part in value.split(",")):
                if not item:
                    continue
                role, sep, merchant = item.rpartition("=")
                if not sep or not role.startswith("arn:") or not merchant:
                    raise ValueError("MERCHANT_PRINCIPALS must be ROLE_ARN=MERCHANT_ID|*[,...]")
                principals[role] = None if merchant == "*" else merchant
            return principals
        return value

    @model_validator(mode="after")
    def _merchant_principals_with_iam_auth(self) -> Settings:
        if self.merchant_auth_mode == "apigateway-iam" and not self.merchant_principals:
            raise ValueError("MERCHANT_AUTH_MODE=apigateway-iam needs MERCHANT_PRINCIPALS")
        return self

    @field_validator("webhook_retry_schedule_seconds", mode="before")
    @classmethod
    def _parse_retry_schedule(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                delays = tuple(float(part) for part in value.split(",") if part.strip())
            except ValueError:
                raise ValueError("WEBHOOK_RETRY_SCHEDULE_SECONDS must be numbers of seconds, comma separated") from None
            value = delays
        if isinstance(value, tuple | list) and (not value or any(float(d) <= 0 for d in value)):
            raise ValueError("WEBHOOK_RETRY_SCHEDULE_SECONDS needs at least one positive delay")
        return value

    @model_validator(mode="after")
    def _webhooks_retried_a_day(self) -> Settings:
        if not self.is_local and self.webhook_retry_window_seconds < DEFAULT_RETRY_WINDOW.total_seconds():
            raise ValueError("WEBHOOK_RETRY_WINDOW_SECONDS must be at least 86400 (24 hours) outside local and test")
        return self

    @model_validator(mode="after")
    def _test_clock_only_locally(self) -> Settings:
        if self.clock_offset_file and not self.is_local:
            raise ValueError("CLOCK_OFFSET_FILE is a test control; it is refused unless BNPL_ENV is local or test")
        return self

    @model_validator(mode="after")
    def _dynamodb_needs_a_table(self) -> Settings:
        if self.credit_store == "dynamodb" and not self.credit_table:
            raise ValueError("CREDIT_STORE=dynamodb needs CREDIT_TABLE")
        return self

    @model_validator(mode="after")
    def _profile_keys(self) -> Settings:
        # empty is allowed and fails closed: every application is refused (ProfileNotTrusted)
        parse_verify_keys(self.profile_verify_keys)
        if self.bnpl_env == "aws" and LOCAL_PROFILE_VERIFY_KEY in self.profile_verify_keys:
            # its private half is in this repository: anyone could sign a profile with it
            raise ValueError(
                "PROFILE_VERIFY_KEYS holds the local key; set the user service's real key for BNPL_ENV=aws"
            )
        return self

    def secret_values(self) -> dict[str, str]:
        merchant = {f"MERCHANT_AUTH_KEYS[{k}]": v.secret for k, v in self.merchant_auth_keys.items()}
        uses_lake = self.lake_dir or self.event_publisher == "eventbridge"  # local files, or Firehose in AWS
        lake = {"LAKE_PSEUDONYM_KEY": self.lake_pseudonym_key} if uses_lake else {}
        return {**super().secret_values(), **merchant, **lake}
