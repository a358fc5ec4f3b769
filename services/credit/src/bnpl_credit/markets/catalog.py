"""Markets as data: one versioned JSON file per market under ``markets/data/``.

A market is what the law of the shopper's country makes the platform do: the currency, the
legal entity a shopper is shown, the products with their limits and rates by grade, the late
fee and its caps, the withdrawal period, the early-settlement rule, the affordability buffer,
which documents are disclosed, and how the annual rate is computed, named and rounded.
Adding a market is adding a file (and the tests that hold it to its law); a change of terms is
a new file with a new ``version``, as with the credit policy.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bnpl_credit.markets.rates import CashFlow, Interval, RateKind, aprc, regulation_z_apr

DATA_DIR = Path(__file__).parent / "data"
ProductName = Literal["PAY_IN_4", "MONTHLY_3", "MONTHLY_6", "MONTHLY_12"]


class EarlySettlement(StrEnum):
    EU_ARTICLE_29 = "EU_ARTICLE_29"  # Directive 2023/2225 Art. 29: cost reduction for the remaining term
    UK_EARLY_SETTLEMENT_2004 = "UK_EARLY_SETTLEMENT_2004"  # Consumer Credit (Early Settlement) Regs 2004
    US_NO_UNEARNED_INTEREST = "US_NO_UNEARNED_INTEREST"  # actuarial: only interest earned to the payoff date


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LegalEntity(_Frozen):
    creditor_name: str = Field(min_length=1)
    address: str = Field(min_length=1)
    regulator: str = Field(min_length=1)
    registration: str = Field(min_length=1)
    complaints: str = Field(min_length=1)
    # telephone, e-mail and web address: SECCI section 1 and a decline notice name the creditor's
    contact: str = Field(min_length=1)


class Agency(_Frozen):
    """A public body a notice must name, with the address the law asks for."""

    name: str = Field(min_length=1)
    address: str = Field(min_length=1)


class RateRules(_Frozen):
    kind: RateKind
    label: str = Field(min_length=1)  # what the shopper reads: "APRC", "APR"
    representative_label: str = Field(min_length=1)
    decimals: int = Field(ge=1, le=2)


class Product(_Frozen):
    min_amount: int = Field(gt=0)
    max_amount: int = Field(gt=0)
    installments: int = Field(gt=0, le=60)
    # every ``interval_days`` (pay in 4), or monthly when absent
    interval_days: int | None = Field(default=None, gt=0)
    first_due_at_start: bool = False
    rate_basis_points: dict[str, int]

    @model_validator(mode="after")
    def _check(self) -> Product:
        if self.min_amount > self.max_amount:
            raise ValueError("min_amount above max_amount")
        if not self.rate_basis_points or any(bp < 0 for bp in self.rate_basis_points.values()):
            raise ValueError("every product needs a non-negative rate for each grade it serves")
        return self

    @property
    def interval(self) -> Interval:
        """How the directive's remark (c) counts this product's periods: weeks or equal months."""
        if self.interval_days is None:
            return Interval.EQUAL_MONTHS
        return Interval.WEEKS if self.interval_days % 7 == 0 else Interval.DAYS

    @property
    def periods_per_year(self) -> int:
        """Regulation Z's unit periods in a year (Appendix J (b)(4)-(5))."""
        if self.interval_days is None:
            return 12
        return 365 // self.interval_days if self.interval_days % 7 else 52 // (self.interval_days // 7)


class LateFeeRules(_Frozen):
    grace_days: int = Field(ge=0, le=60)
    amount_minor: int = Field(ge=0)
    max_percent_of_installment: int = Field(ge=0, le=100)

    def fee(self, installment_amount: int) -> int:
        """One fee for an installment still unpaid after the grace period, never above the cap."""
        return max(0, min(self.amount_minor, installment_amount * self.max_percent_of_installment // 100))


class AffordabilityRules(_Frozen):
    stress_buffer_percent: int = Field(ge=0, le=100)
    assumed_debt_rate_basis_points: int = Field(ge=0)
    assumed_debt_term_months: int = Field(gt=0)


class Disclosures(_Frozen):
    pre_contract: str = Field(min_length=1)
    decline_notice: str = Field(min_length=1)
    human_review_right: bool
    # confirming needs the shopper's acceptance of the pre-contract document (its content hash):
    # each market's law wants the information given before the contract is made (EU 2023/2225
    # Art. 10, UK CCA s. 55, US Reg Z 1026.17(b)), and the acceptance proves it was; on by default
    acceptance_required: bool = True
    # how a declined shopper asks for a person to review the decision (EU, UK)
    human_review: str | None = Field(default=None, min_length=1)
    # Regulation B 1002.9(b)(1): the federal agency that administers ECOA compliance for this
    # creditor, as Appendix A to Part 1002 lists it for the creditor's kind of institution
    ecoa_agency: Agency | None = None

    @model_validator(mode="after")
    def _check(self) -> Disclosures:
        if self.human_review_right and self.human_review is None:
            raise ValueError("a market with a right to human review must say how to ask for one (human_review)")
        if self.decline_notice == "ecoa-adverse-action" and self.ecoa_agency is None:
            raise ValueError("an ECOA adverse-action notice must name the federal agency (ecoa_agency)")
        return self


class Market(_Frozen):
    version: str = Field(min_length=1)
    market: str = Field(pattern=r"^[A-Z]{2}$")
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    countries: tuple[str, ...] = Field(min_length=1)
    law: str = Field(min_length=1)
    legal_entity: LegalEntity
    rate: RateRules
    products: dict[ProductName, Product]
    late_fees: LateFeeRules
    withdrawal_days: int = Field(ge=0, le=60)
    early_settlement: EarlySettlement
    affordability: AffordabilityRules
    disclosures: Disclosures

    def product(self, name: str) -> Product:
        for product_name, product in self.products.items():
            if product_name == name:
                return product
        raise KeyError(f"{self.market} offers no {name}")


@dataclass(frozen=True, slots=True)
class DisclosedRate:
    """The annual rate as the market requires it to be shown."""

    kind: RateKind
    label: str
    annual_rate: Decimal  # percent, rounded as the market requires


def disclosed_rate(
    market: Market, product: Product, *, start: date, amount_financed: int, installments: Sequence[tuple[date, int]]
) -> DisclosedRate:
    """The rate of one schedule: the credit is drawn on ``start`` and repaid by ``installments``."""
    rules = market.rate
    if rules.kind is RateKind.APRC:
        rate = aprc(
            [CashFlow(start, amount_financed)],
            [CashFlow(on, amount) for on, amount in installments],
            interval=product.interval,
            decimals=rules.decimals,
        )
    else:
        # Regulation Z: a payment due at consummation is a down payment, not a repayment, so
        # it reduces the amount financed (1026.18(b)); the others are repaid over unit periods.
        down = sum(amount for on, amount in installments if on == start)
        rest = [amount for on, amount in installments if on != start]
        rate = regulation_z_apr(
            amount_financed - down, rest, periods_per_year=product.periods_per_year, decimals=rules.decimals
        )
    return DisclosedRate(kind=rules.kind, label=rules.label, annual_rate=rate)


class MarketCatalog:
    """The markets the platform lends in, each found by its currency or a shopper's country."""

    def __init__(self, markets: Iterable[Market], *, older: Iterable[Market] = ()) -> None:
        self._by_currency: dict[str, Market] = {}
        self._by_country: dict[str, Market] = {}
        self._by_version: dict[str, Market] = {}
        for market in markets:
            if market.currency in self._by_currency:
                raise ValueError(f"two markets lend in {market.currency}")
            self._by_currency[market.currency] = market
            for country in market.countries:
                if country in self._by_country:
                    raise ValueError(f"{country} belongs to two markets")
                self._by_country[country] = market
        for market in (*older, *self._by_currency.values()):
            self._by_version[market.version] = market

    @property
    def markets(self) -> tuple[Market, ...]:
        return tuple(self._by_currency.values())

    def for_currency(self, currency: str) -> Market | None:
        return self._by_currency.get(currency)

    def for_country(self, country: str) -> Market | None:
        return self._by_country.get(country)

    def version(self, version: str) -> Market | None:
        """One version of a market's terms, in force or older (what a plan was made under)."""
        return self._by_version.get(version)

    def late_fees(self, currency: str, version: str | None = None) -> LateFeeRules:
        """The late-fee terms of a plan in ``currency`` made under market ``version``: a contract
        keeps the terms it was made under; a plan that recorded none (made before versions were
        recorded) has those in force for its currency."""
        market = self._by_version.get(version) if version is not None else None
        if market is None or market.currency != currency:
            market = self._by_currency.get(currency)
        if market is None:
            raise LookupError(f"no market lends in {currency}: its plans have no late-fee terms")
        return market.late_fees


def load_market(path: Path) -> Market:
    return Market.model_validate(json.loads(path.read_text()))


def load_catalog(directory: Path = DATA_DIR) -> MarketCatalog:
    """The version in force of each market in ``directory``: the newest file of each.

    Older versions stay beside it, so the terms a plan was made under can still be read
    (:func:`load_version`)."""
    every = [load_market(path) for path in sorted(directory.glob("*.json"))]
    newest: dict[str, Market] = {}
    for market in every:
        if market.market not in newest or market.version > newest[market.market].version:
            newest[market.market] = market
    return MarketCatalog(newest.values(), older=[m for m in every if m is not newest[m.market]])


def load_version(version: str, directory: Path = DATA_DIR) -> Market:
    """One version of a market's terms, by its ``version``."""
    for path in sorted(directory.glob("*.json")):
        market = load_market(path)
        if market.version == version:
            return market
    raise KeyError(f"no market version {version!r}")
