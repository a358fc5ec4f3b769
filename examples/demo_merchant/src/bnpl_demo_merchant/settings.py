"""The demo merchant's settings: environment variables with the ``DEMO_MERCHANT_`` prefix."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_MERCHANT_", extra="ignore", frozen=True)

    host: str = "127.0.0.1"
    port: int = 8100
    # Where the shopper's browser reaches this shop: the return and cancel URLs are built from it.
    public_url: str = "http://127.0.0.1:8100"
    # The merchant API (locally the credit service) and the SigV4 region it is signed for.
    api_url: str = "http://127.0.0.1:8002"
    region: str = "us-east-1"
    # What `make run` writes: each merchant's keys and webhook secret.
    credentials_file: Path = Path(".data/local-merchants.json")
    data_dir: Path = Path(".data/demo-merchant")
    api_timeout_seconds: float = 10.0
    log_level: str = "INFO"


@dataclass(frozen=True, slots=True)
class MerchantCredentials:
    """One merchant's secrets from ``local-merchants.json``; never logged, never shown."""

    merchant_id: str
    access_key_id: str
    secret_access_key: str
    webhook_secret: str

    def __repr__(self) -> str:  # keeps the secrets out of tracebacks and logs
        return f"MerchantCredentials(merchant_id={self.merchant_id!r}, access_key_id={self.access_key_id!r})"


class CredentialsMissing(RuntimeError):
    """The credentials file has no entry for a merchant this server serves."""


def load_credentials(path: Path, merchant_id: str) -> MerchantCredentials:
    """The merchant's entry of the credentials file, read at every call so a rotation is picked up."""
    try:
        entry = json.loads(path.read_text())[merchant_id]
        return MerchantCredentials(
            merchant_id=merchant_id,
            access_key_id=str(entry["accessKeyId"]),
            secret_access_key=str(entry["secretAccessKey"]),
            webhook_secret=str(entry["webhookSecret"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CredentialsMissing(f"no credentials for {merchant_id} in {path}") from exc
