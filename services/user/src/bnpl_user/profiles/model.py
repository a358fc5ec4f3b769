"""The profile as the service reasons about it: typed, immutable records.

Frozen dataclasses, not pydantic models: validation belongs to the HTTP schemas (the
edge where untrusted JSON arrives) and serialization to each storage adapter, so a
record is only a value, cheap to build and compare, changed with ``dataclasses.replace``.
Money is the shared :class:`bnpl_common.money.Money` value (integer minor units).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from enum import Enum, StrEnum
from typing import Any, Protocol

from bnpl_common.idempotency import StoredResponse
from bnpl_common.money import Money


class Housing(StrEnum):
    RENT = "RENT"
    OWNER = "OWNER"
    PARENTS = "PARENTS"
    OTHER = "OTHER"


class Employment(StrEnum):
    FIXED = "FIXED"
    PART_TIME = "PART_TIME"
    FREELANCE = "FREELANCE"
    OTHER = "OTHER"


@dataclass(frozen=True, slots=True)
class Address:
    line1: str
    city: str
    postal_code: str
    country: str  # ISO 3166-1 alpha-2
    line2: str | None = None
    region: str | None = None


@dataclass(frozen=True, slots=True)
class ProfileDetails:
    """What the customer tells us about themselves."""

    email: str | None
    given_name: str
    family_name: str
    date_of_birth: date
    phone_number: str  # E.164
    address: Address
    monthly_income: Money
    monthly_expenses: Money
    housing: Housing
    employment: Employment
    employment_years: int
    assets: Money
    debt: Money


DETAIL_FIELDS: frozenset[str] = frozenset(f.name for f in fields(ProfileDetails))
MONEY_FIELDS = ("monthly_income", "monthly_expenses", "assets", "debt")
# The declared finances: a change to any of them moves the profile's finance version.
FINANCE_FIELDS = (*MONEY_FIELDS, "employment", "employment_years", "housing")


@dataclass(frozen=True, slots=True)
class FinanceChange:
    """One change of the declared finances: the version it made, when, and each changed field's
    value before and after (JSON values, as the profile JSON writes them). Kept in the user
    store only, never logged."""

    version: int
    at: datetime
    changes: tuple[tuple[str, Any, Any], ...]  # (field, before, after)


@dataclass(frozen=True, slots=True)
class Profile:
    """A customer's profile; ``sub`` is the Cognito subject that owns it.

    ``version`` is the stored version this record was read at (0: never stored). Every save
    is conditional on it, so a change decided on stale data is refused, not lost.
    """

    sub: str
    details: ProfileDetails
    phone_verified: bool
    created_at: datetime
    updated_at: datetime
    version: int = 0
    # Version of the declared finances (1 at creation, +1 per change) and how they changed.
    finance_version: int = 1
    finance_history: tuple[FinanceChange, ...] = ()


class ProfileChanges(Protocol):
    """A partial update: which detail fields it sets, and the details with them set."""

    def changed_fields(self) -> frozenset[str]: ...

    def apply_to(self, details: ProfileDetails) -> ProfileDetails: ...


class CreateOutcome(Enum):
    CREATED = "created"
    REPLAYED = "replayed"  # the idempotency key was used before: ``response`` is the first answer
    PROFILE_EXISTS = "profile_exists"


@dataclass(frozen=True, slots=True)
class CreateResult:
    outcome: CreateOutcome
    response: StoredResponse | None = None
