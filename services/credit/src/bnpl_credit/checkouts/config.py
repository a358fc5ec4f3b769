"""The settings checkout sessions run with (from ``Settings``; tests shorten them)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

# after a refund is stored: return what it gives back to the shopper to the method that paid
# (called with the plan and its new refunds; typed loosely, as this module sits below plans)
ReturnToMethod = Callable[[Any, Sequence[Any]], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class CheckoutConfig:
    gateway_url: str = "http://127.0.0.1:8000"  # GATEWAY_PUBLIC_URL: where redirectUrl sends the shopper
    session_ttl: timedelta = timedelta(minutes=60)  # CHECKOUT_SESSION_TTL_MINUTES: OPEN until then
    authorization_ttl: timedelta = timedelta(days=28)  # AUTHORIZATION_TTL_DAYS: uncaptured until then
    return_to_method: ReturnToMethod | None = None  # set when payments are collected (collections.refunds)
