"""Gateway settings (environment variables, no prefix)."""

from __future__ import annotations

from typing import Annotated, Literal

from bnpl_common.settings import CommonSettings
from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode


class Settings(CommonSettings):
    """What the gateway reads from its environment."""

    user_service_url: str = "http://127.0.0.1:8001"
    credit_service_url: str = "http://127.0.0.1:8002"
    # local: sign with the well-known local key pair; aws: botocore's credential chain (task role).
    service_signing: Literal["local", "aws"] = "local"
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    # None means "on in local mode only"; never on with BNPL_ENV=aws.
    graphiql: bool | None = None
    cors_allow_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("cors_allow_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _aws_signs_with_the_task_role(self) -> Settings:
        if self.bnpl_env == "aws" and self.service_signing != "aws":
            raise ValueError("SERVICE_SIGNING=local uses a public placeholder key; set SERVICE_SIGNING=aws")
        return self

    @property
    def graphiql_enabled(self) -> bool:
        if self.bnpl_env == "aws":
            return False
        return self.bnpl_env == "local" if self.graphiql is None else self.graphiql
