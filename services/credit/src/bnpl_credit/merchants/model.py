"""The merchant registry's records: who may call the merchant API, with which keys, where its
webhooks go and which return URLs it may use.

Keys and webhook secrets rotate without downtime: a rotation adds the new one first and keeps
the old one valid until it is retired (by a command, or when its ``retired_at`` passes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

# ASCII only, so no invisible or look-alike character can make two ids that read the same
MERCHANT_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{1,62}", re.ASCII)
MARKETS = ("EU", "UK", "US")


class MerchantStatus(StrEnum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"


def valid_merchant_id(value: str) -> bool:
    return MERCHANT_ID_PATTERN.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class MerchantKey:
    """A SigV4 key pair; valid until ``retired_at`` (``None``: no end)."""

    access_key_id: str
    secret_access_key: str
    created_at: datetime
    retired_at: datetime | None = None

    def valid_at(self, now: datetime) -> bool:
        return self.retired_at is None or now < self.retired_at

    def __repr__(self) -> str:  # never print the secret
        return f"MerchantKey(access_key_id={self.access_key_id!r}, retired_at={self.retired_at!r})"


@dataclass(frozen=True, slots=True)
class Merchant:
    id: str
    display_name: str
    status: MerchantStatus
    market: str  # "EU" | "UK" | "US"
    currency: str
    origins: tuple[str, ...]  # scheme://host[:port] of the return and cancel URLs, e.g. "http://127.0.0.1:8100"
    webhook_url: str | None
    webhook_secrets: tuple[str, ...]  # Standard Webhooks "whsec_<base64>", newest first; two during a rotation
    keys: tuple[MerchantKey, ...]
    created_at: datetime
    updated_at: datetime
    # when the older webhook secret (webhook_secrets[1:]) stops being used; None: retire by command
    webhook_secret_retires_at: datetime | None = None
    version: int = 0  # the stored version (0: never stored); each write adds one

    @property
    def active(self) -> bool:
        return self.status is MerchantStatus.ACTIVE

    @property
    def webhook_secret(self) -> str:
        """The current (newest) webhook secret: signs returns and webhooks."""
        return self.webhook_secrets[0]

    def valid_keys(self, now: datetime) -> tuple[MerchantKey, ...]:
        return tuple(k for k in self.keys if k.valid_at(now))

    def key(self, access_key_id: str, now: datetime) -> MerchantKey | None:
        """The key with this id if it is still valid."""
        return next((k for k in self.valid_keys(now) if k.access_key_id == access_key_id), None)

    def live_webhook_secrets(self, now: datetime) -> tuple[str, ...]:
        """The secrets a receiver may still be checking: the newest, plus the older one until it retires."""
        retires = self.webhook_secret_retires_at
        if len(self.webhook_secrets) > 1 and retires is not None and now >= retires:
            return self.webhook_secrets[:1]
        return self.webhook_secrets

    def allows_origin(self, url: str) -> bool:
        """Whether ``url`` lies within one of the merchant's origins (same scheme, host and port)."""
        from bnpl_credit.merchants.urls import origin_of

        origin = origin_of(url)
        return origin is not None and origin in self.origins

    def changed(self, now: datetime, **fields: object) -> Merchant:
        return replace(self, updated_at=now, **fields)  # type: ignore[arg-type]

    def __repr__(self) -> str:  # never print keys or secrets
        return f"Merchant(id={self.id!r}, status={self.status!r}, market={self.market!r}, version={self.version})"
