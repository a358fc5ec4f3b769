"""Collecting installments: whether, how often the scheduler runs, retries and reminders."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class CollectionSettings(BaseSettings):
    """``PAYMENT_COLLECTION=psp`` (the default, except for ``BNPL_ENV=test``): a plan needs a saved
    method and installments are charged through the PSP. ``off`` (the default for
    ``BNPL_ENV=test``, so in-process unit tests need no PSP; refused in AWS): nothing is charged."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    bnpl_env: Literal["local", "test", "aws"] = "local"
    payment_collection: Literal["psp", "off"] | None = None
    # origins the PSP's page may send the shopper back to, besides GATEWAY_PUBLIC_URL's
    payment_return_origins: Annotated[tuple[str, ...], NoDecode] = ()
    collection_interval_seconds: float = Field(default=60.0, gt=0)
    # days after a failed charge that it is tried again (then it stays late until paid by hand)
    collection_retry_days: Annotated[tuple[int, ...], NoDecode] = (1, 3, 7)
    # days before a due date the shopper is reminded by SMS
    collection_reminder_days: int = Field(default=3, ge=0, le=30)

    @field_validator("payment_return_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(o.strip().rstrip("/").lower() for o in value.split(",") if o.strip())
        return value

    @field_validator("collection_retry_days", mode="before")
    @classmethod
    def _retry_days(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                value = tuple(int(d) for d in value.split(",") if d.strip())
            except ValueError:
                raise ValueError("COLLECTION_RETRY_DAYS must be whole days, comma separated (1,3,7)") from None
        if isinstance(value, tuple | list) and any(int(d) <= 0 for d in value):
            raise ValueError("COLLECTION_RETRY_DAYS must be positive days")
        return value

    @property
    def collects(self) -> bool:
        chosen = self.payment_collection or ("off" if self.bnpl_env == "test" else "psp")
        return chosen == "psp"

    @model_validator(mode="after")
    def _collect_in_aws(self) -> CollectionSettings:
        if self.payment_collection == "off" and self.bnpl_env == "aws":
            raise ValueError("PAYMENT_COLLECTION=off confirms plans without charging; it is refused for BNPL_ENV=aws")
        return self
