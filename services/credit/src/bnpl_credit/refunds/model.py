"""Who asks for a refund: a merchant integration, authenticated by ``refunds.auth``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MerchantCaller:
    access_key_id: str  # or, behind API Gateway's IAM auth, the caller's role ARN
    merchant_id: str | None  # None: may act for any merchant

    @property
    def scope(self) -> str:
        """Idempotency keys of merchant calls live in the key's own namespace."""
        return f"merchant:{self.access_key_id}"

    def may_act_for(self, merchant_id: str) -> bool:
        return self.merchant_id is None or self.merchant_id == merchant_id
