"""The legacy merchant-integration keys of ``MERCHANT_AUTH_KEYS`` (a payment-service fallback of
the refund route); merchants authenticate through :mod:`bnpl_credit.merchants.auth`."""

from __future__ import annotations

from dataclasses import dataclass

from bnpl_credit.refunds.model import MerchantCaller as MerchantCaller  # re-exported: what a dependency returns


@dataclass(frozen=True, slots=True)
class MerchantKey:
    secret: str
    merchant_id: str | None
