"""Settings base shared by every service: environment variables read by pydantic-settings.

The names are the same in ``.env`` files, docker-compose.yml and the CloudFormation task
definitions. A ``.env`` file in the working directory is read in local and test mode (the
environment wins over it); with ``BNPL_ENV=aws`` it is ignored, every setting comes from the
task definition. Outside local and test mode the placeholder secrets below are refused, and so
are the settings that point a service at a local stand-in.
"""

from __future__ import annotations

import os
from typing import Annotated, ClassVar, Literal

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

# Local-only development keys. Known to everyone, so refused outside local/test mode.
LOCAL_SIGV4_ACCESS_KEY_ID = "AKIALOCALGATEWAY0001"
LOCAL_SIGV4_SECRET = "local-only-sigv4-secret-not-for-production"  # noqa: S105 - refused outside local mode
PLACEHOLDER_SECRETS = frozenset({LOCAL_SIGV4_SECRET, "change-me", "local-only-otp-pepper"})
# Settings that point a service at a local stand-in, refused with BNPL_ENV=aws when set: a local
# Cognito's JWKS would make tokens signed with its (anyone's) keys valid, a DynamoDB endpoint
# would send the customers' data wherever it points. Checked on every subclass that has them.
LOCAL_ONLY_SETTINGS = ("cognito_endpoint", "dynamodb_endpoint")

# Set by the platform in every ECS / Fargate task and every Lambda function: where these are,
# the process runs in AWS, and the local defaults (placeholder keys, test controls) must not.
AWS_RUNTIME_MARKERS = ("ECS_CONTAINER_METADATA_URI_V4", "ECS_CONTAINER_METADATA_URI", "AWS_LAMBDA_FUNCTION_NAME")


def aws_runtime_marker() -> str | None:
    """The name of the first AWS runtime variable set in this process's environment, if any."""
    return next((name for name in AWS_RUNTIME_MARKERS if os.environ.get(name)), None)


def csv_parts(text: str) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]``."""
    return [part.strip() for part in text.split(",") if part.strip()]


def split_csv(value: object) -> object:
    """A ``mode="before"`` field validator: ``"a, b,,c"`` becomes ``["a", "b", "c"]``."""
    if isinstance(value, str):
        return csv_parts(value)
    return value


class CommonSettings(BaseSettings):
    """What every service reads. Subclass per service; tests build instances directly."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True, env_file=".env", env_file_encoding="utf-8")

    # Values refused in any of ``secret_values()`` with BNPL_ENV=aws; a service adds its own local
    # keys with ``placeholder_secrets = CommonSettings.placeholder_secrets | {...}``.
    placeholder_secrets: ClassVar[frozenset[str]] = PLACEHOLDER_SECRETS

    bnpl_env: Literal["local", "test", "aws"] = "local"
    log_level: str = "INFO"
    aws_region: str = "us-east-1"

    # Cognito: issuer is always the AWS form (moto issues the same ``iss``); a local
    # endpoint only changes where the JWKS is fetched from.
    cognito_user_pool_id: str = ""
    cognito_client_ids: Annotated[list[str], NoDecode] = []
    cognito_endpoint: str | None = None
    # The staff user pool (AWS: its own pool, TOTP MFA required; groups operations and
    # operations-risk). Empty: staff are users of the pool above, in those groups (local).
    staff_cognito_user_pool_id: str = ""
    staff_cognito_client_ids: Annotated[list[str], NoDecode] = []

    # Incoming SigV4: ``ACCESS_KEY_ID:SECRET`` pairs of allowed callers, comma separated.
    service_auth_keys: Annotated[dict[str, str], NoDecode] = {LOCAL_SIGV4_ACCESS_KEY_ID: LOCAL_SIGV4_SECRET}
    sigv4_service: str = "execute-api"
    # ``sigv4``: verify the signature here against SERVICE_AUTH_KEYS (local, compose).
    # ``apigateway-iam``: API Gateway (IAM auth, private API) verified the SigV4 signature
    # of the caller's role and passes its ARN in ``X-Bnpl-Caller-Arn``; the service only
    # accepts ARNs of SERVICE_AUTH_PRINCIPALS (role ARNs). The service must then be
    # reachable only through that API (private subnets, security group on the VPC link).
    service_auth_mode: Literal["sigv4", "apigateway-iam"] = "sigv4"
    service_auth_principals: Annotated[list[str], NoDecode] = []
    sigv4_max_skew_seconds: int = 300

    # Outgoing timeouts (seconds) of the shared httpx client.
    http_connect_timeout: float = 1.0
    http_read_timeout: float = 5.0

    _split_lists = field_validator(
        "cognito_client_ids", "staff_cognito_client_ids", "service_auth_principals", mode="before"
    )(split_csv)

    @field_validator("service_auth_keys", mode="before")
    @classmethod
    def _parse_keys(cls, value: object) -> object:
        if isinstance(value, str):
            pairs: dict[str, str] = {}
            for item in csv_parts(value):
                key_id, sep, secret = item.partition(":")
                if not sep or not key_id or not secret:
                    raise ValueError("SERVICE_AUTH_KEYS must be ACCESS_KEY_ID:SECRET[,...]")
                pairs[key_id] = secret
            return pairs
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # A .env file is a laptop's: in AWS a stray one in the image must not change a setting.
        if os.environ.get("BNPL_ENV", "").strip().lower() == "aws":
            return init_settings, env_settings, file_secret_settings
        return init_settings, env_settings, dotenv_settings, file_secret_settings

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> CommonSettings:
        # BNPL_ENV defaults to local (make run, the tests); fail closed where that is a mistake
        marker = aws_runtime_marker()
        if self.is_local and marker is not None:
            raise ValueError(
                f"BNPL_ENV={self.bnpl_env} is for a laptop or a test run, but {marker} is set: this process runs "
                "on AWS (ECS/Fargate or Lambda). Set BNPL_ENV=aws (and real secrets)."
            )
        if self.service_auth_mode == "apigateway-iam" and not self.service_auth_principals:
            raise ValueError("SERVICE_AUTH_MODE=apigateway-iam needs SERVICE_AUTH_PRINCIPALS")
        if self.bnpl_env == "aws":
            for field in LOCAL_ONLY_SETTINGS:
                if getattr(self, field, None):
                    raise ValueError(
                        f"{field.upper()} points at a local stand-in; it is refused with BNPL_ENV=aws (leave it unset)"
                    )
            for name, value in self.secret_values().items():
                if value in self.placeholder_secrets:
                    raise ValueError(f"{name} holds a local placeholder secret; set a real one for BNPL_ENV=aws")
        return self

    def secret_values(self) -> dict[str, str]:
        """Secrets to check for placeholders; services add theirs."""
        if self.service_auth_mode != "sigv4":
            return {}
        return {f"SERVICE_AUTH_KEYS[{k}]": v for k, v in self.service_auth_keys.items()}

    @property
    def is_local(self) -> bool:
        return self.bnpl_env in ("local", "test")

    @property
    def cognito_issuer(self) -> str:
        return f"https://cognito-idp.{self.aws_region}.amazonaws.com/{self.cognito_user_pool_id}"

    @property
    def cognito_jwks_url(self) -> str:
        base = self.cognito_endpoint.rstrip("/") if self.cognito_endpoint else self.cognito_issuer.rsplit("/", 1)[0]
        return f"{base}/{self.cognito_user_pool_id}/.well-known/jwks.json"

    @property
    def staff_cognito_issuer(self) -> str | None:
        if not self.staff_cognito_user_pool_id:
            return None
        return f"https://cognito-idp.{self.aws_region}.amazonaws.com/{self.staff_cognito_user_pool_id}"

    @property
    def staff_cognito_jwks_url(self) -> str | None:
        issuer = self.staff_cognito_issuer
        if issuer is None:
            return None
        base = self.cognito_endpoint.rstrip("/") if self.cognito_endpoint else issuer.rsplit("/", 1)[0]
        return f"{base}/{self.staff_cognito_user_pool_id}/.well-known/jwks.json"
