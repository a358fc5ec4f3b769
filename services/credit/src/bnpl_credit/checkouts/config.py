"""The settings checkout sessions run with (from ``Settings``; tests shorten them)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from bnpl_credit.plans.ledger import Plan
from bnpl_credit.plans.model import Refund

# after a refund is stored: return what it gives back to the shopper to the method that paid
ReturnToMethod = Callable[[Plan, Sequence[Refund]], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class CheckoutConfig:
    gateway_url: str = "http://127.0.0.1:8000"  # GATEWAY_PUBLIC_URL: where redirectUrl sends the shopper
    session_ttl: timedelta = timedelta(minutes=60)  # CHECKOUT_SESSION_TTL_MINUTES: OPEN until then
    authorization_ttl: timedelta = timedelta(days=28)  # AUTHORIZATION_TTL_DAYS: uncaptured until then
    return_to_method: ReturnToMethod | None = None  # set when payments are collected (collections.refunds)
