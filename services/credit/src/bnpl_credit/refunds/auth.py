"""Merchants are not shoppers: a refund call is SigV4-signed with a merchant-integration key
(``MERCHANT_AUTH_KEYS``) and carries no user token. A key bound to a merchant id may refund
only that merchant's plans; an unbound key (a payment-service integration) any."""

from __future__ import annotations

from dataclasses import dataclass

from bnpl_common.clock import Clock, SystemClock
from bnpl_common.service_auth import verify_request_signature
from fastapi import Request


@dataclass(frozen=True, slots=True)
class MerchantKey:
    secret: str
    merchant_id: str | None


@dataclass(frozen=True, slots=True)
class MerchantCaller:
    access_key_id: str
    merchant_id: str | None  # None: may act for any merchant

    @property
    def scope(self) -> str:
        """Idempotency keys of merchant calls live in the key's own namespace."""
        return f"merchant:{self.access_key_id}"

    def may_act_for(self, merchant_id: str) -> bool:
        return self.merchant_id is None or self.merchant_id == merchant_id


class MerchantAuthenticator:
    """FastAPI dependency: the signed merchant caller, or 403."""

    def __init__(
        self, *, keys: dict[str, MerchantKey], service: str, clock: Clock | None = None, max_skew_seconds: int = 300
    ) -> None:
        self._keys = dict(keys)
        self._secrets = {k: v.secret for k, v in keys.items()}
        self._service = service
        self._clock = clock or SystemClock()  # signatures are checked against real time, always
        self._skew = max_skew_seconds

    async def __call__(self, request: Request) -> MerchantCaller:
        signed = await verify_request_signature(
            request, secrets=self._secrets, service=self._service, now=self._clock.now(), max_skew_seconds=self._skew
        )
        return MerchantCaller(signed.access_key_id, self._keys[signed.access_key_id].merchant_id)
