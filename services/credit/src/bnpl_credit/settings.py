"""Credit service settings (environment variables, no prefix)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar, Literal

from bnpl_common.profile_signature import LOCAL_PROFILE_SIGNING_KEY_ID, LOCAL_PROFILE_VERIFY_KEY, parse_verify_keys
from bnpl_common.settings import CommonSettings
from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode

from bnpl_credit.refunds.auth import MerchantKey

PACKAGED_POLICY = Path(__file__).parent / "policies" / "policy-2026-11-29.json"

# Local-only merchant integration key (refunds); known to everyone, refused for BNPL_ENV=aws.
LOCAL_MERCHANT_ACCESS_KEY_ID = "AKIALOCALMERCHANT001"
LOCAL_MERCHANT_SECRET = "local-only-merchant-secret-not-for-production"  # noqa: S105 - placeholder, refused in aws


class Settings(CommonSettings):
    """What the credit service reads from its environment."""

    placeholder_secrets: ClassVar[frozenset[str]] = CommonSettings.placeholder_secrets | {LOCAL_MERCHANT_SECRET}

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

    # outbox relay and lateness sweeper
    event_publisher: Literal["log", "eventbridge", "none"] = "log"
    event_bus_name: str = "default"
    relay_interval_seconds: float = Field(default=1.0, gt=0)
    sweep_interval_seconds: float = Field(default=60.0, gt=0)

    # profile snapshots: ``KEY_ID:BASE64URL_ED25519_PUBLIC_KEY,...`` of the user service, and how
    # old a signature may be (the gateway reads the profile just before it applies)
    profile_verify_keys: str = f"{LOCAL_PROFILE_SIGNING_KEY_ID}:{LOCAL_PROFILE_VERIFY_KEY}"
    profile_snapshot_max_age_seconds: int = Field(default=300, ge=10, le=3600)
    # declared-finance shopping: an application within this window after a decline, on finances
    # changed by at least this share (or a changed employment or housing), goes to review
    finance_review_window_hours: int = Field(default=720, ge=0, le=24 * 365)
    finance_material_change_percent: int = Field(default=10, ge=1, le=1000)

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
        return {**super().secret_values(), **merchant}
