"""Money: integer minor units plus an ISO 4217 currency. No floats, ever.

Schedules are built with :func:`allocate`, which splits a total by integer weights
with the largest-remainder method, so the parts always sum exactly to the total.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

# ISO 4217 minor-unit exponents of the currencies the platform knows how to format.
# Whether a currency is *accepted* for credit is policy (the credit service decides).
CURRENCY_EXPONENTS: dict[str, int] = {
    "EUR": 2,
    "USD": 2,
    "GBP": 2,
    "CHF": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "PLN": 2,
    "CZK": 2,
    "CAD": 2,
    "AUD": 2,
    "NZD": 2,
    "JPY": 0,
}

MAX_AMOUNT = 10**12  # a sanity bound far above any consumer purchase


class Money(BaseModel):
    """An amount in minor units (cents) of a known ISO 4217 currency."""

    model_config = ConfigDict(frozen=True)

    amount: Annotated[StrictInt, Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT)]
    currency: str

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value not in CURRENCY_EXPONENTS:
            raise ValueError(f"unsupported currency {value!r}; use an ISO 4217 code such as EUR")
        return value

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(amount=self.amount - other.amount, currency=self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")

    def format(self) -> str:
        """Human text, e.g. ``EUR 12.34``."""
        exp = CURRENCY_EXPONENTS[self.currency]
        sign = "-" if self.amount < 0 else ""
        units, minor = divmod(abs(self.amount), 10**exp) if exp else (abs(self.amount), 0)
        return f"{self.currency} {sign}{units}" + (f".{minor:0{exp}d}" if exp else "")


def allocate(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` minor units by integer ``weights``; the parts sum exactly to ``total``.

    Largest remainder: each part gets its floor share, the leftover units go one by one
    to the largest remainders (ties to the earliest part).
    """
    if not weights or any(w < 0 for w in weights) or sum(weights) == 0:
        raise ValueError("weights must be non-negative and not all zero")
    if total < 0:
        return [-p for p in allocate(-total, weights)]
    whole = sum(weights)
    parts = [total * w // whole for w in weights]
    remainders = [total * w % whole for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def split_evenly(total: int, count: int) -> list[int]:
    """``count`` parts that differ by at most one unit; the larger ones come first."""
    if count <= 0:
        raise ValueError("count must be positive")
    return allocate(total, [1] * count)
