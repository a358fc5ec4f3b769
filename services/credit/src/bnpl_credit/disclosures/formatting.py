"""How figures read in a document: money with its sign, dates and rates as each market writes them."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from bnpl_common.money import CURRENCY_EXPONENTS

from bnpl_credit.markets.catalog import Market, Product

SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$"}
_NUMBERS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")


@dataclass(frozen=True, slots=True)
class Formatter:
    """Formats one market's figures; the templates call it so that no template does arithmetic."""

    currency: str
    us_dates: bool  # "November 29, 2026" rather than "29 November 2026"

    @classmethod
    def for_market(cls, market: Market) -> Formatter:
        return cls(currency=market.currency, us_dates=market.market == "US")

    @property
    def instalment(self) -> str:
        """The word itself: British and EU English "instalment", American "installment"."""
        return "installment" if self.us_dates else "instalment"

    def money(self, minor: int) -> str:
        """``123456`` -> ``€1,234.56``: the currency's sign, thousands separated, its minor digits."""
        exponent = CURRENCY_EXPONENTS[self.currency]
        sign = "-" if minor < 0 else ""
        units, rest = divmod(abs(minor), 10**exponent)
        symbol = SYMBOLS.get(self.currency, self.currency + " ")
        return f"{sign}{symbol}{units:,}" + (f".{rest:0{exponent}d}" if exponent else "")

    def day(self, value: date) -> str:
        month = calendar.month_name[value.month]
        return f"{month} {value.day}, {value.year}" if self.us_dates else f"{value.day} {month} {value.year}"

    def moment(self, value: datetime) -> str:
        """A UTC time of day after the date: offers and decisions are timestamped in UTC."""
        at = value.astimezone(UTC)
        return f"{self.day(at.date())}, {at:%H:%M} UTC"

    @staticmethod
    def percent(rate: Decimal) -> str:
        """A rate already rounded as the market requires, shown with exactly its decimals."""
        return f"{rate}%"

    @staticmethod
    def basis_points(value: int) -> str:
        return f"{Decimal(value) / 100:.2f}%"

    @staticmethod
    def count(value: int) -> str:
        """Small counts in words, as the forms write them ("four installments")."""
        return _NUMBERS[value] if 0 <= value < len(_NUMBERS) else str(value)

    def product(self, terms: Product) -> str:
        if terms.interval_days is not None:
            return f"Pay in {terms.installments}"
        return f"{terms.installments} monthly {self.instalment}s"

    def plan(self, terms: Product) -> str:
        """How the credit is repaid: "12 monthly instalments", "4 instalments every 14 days"."""
        if terms.interval_days is None:
            return f"{terms.installments} monthly {self.instalment}s"
        return f"{terms.installments} {self.instalment}s every {terms.interval_days} days"

    @staticmethod
    def cadence(terms: Product) -> str:
        if terms.interval_days is None:
            return "every month"
        return f"every {terms.interval_days} days"

    def duration(self, start: date, end: date) -> str:
        days = (end - start).days
        months = (end.year - start.year) * 12 + end.month - start.month
        year, month = divmod(start.month - 1 + months, 12)
        # the schedule clamps month ends (31 January, then 28 February): still whole months
        whole = date(start.year + year, month + 1, min(start.day, calendar.monthrange(start.year + year, month + 1)[1]))
        if months >= 1 and whole == end:
            return f"{months} month{'s' if months != 1 else ''} ({self.day(start)} to {self.day(end)})"
        return f"{days} days ({self.day(start)} to {self.day(end)})"
