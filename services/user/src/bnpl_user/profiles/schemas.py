"""Request and response bodies of ``/v1/profile`` (camelCase JSON, as the GraphQL fields)."""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from bnpl_common.money import MAX_AMOUNT, Money
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    field_validator,
)
from pydantic.alias_generators import to_camel

from bnpl_user.countries import ISO_3166_ALPHA2

_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_E164_RE = re.compile(r"^\+[1-9][0-9]{7,14}$")


def _iso_date_text(value: Any) -> Any:
    # Only "YYYY-MM-DD": no timestamps, no datetimes (pydantic's lax date accepts both).
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DATE_RE.match(value):
        return value
    raise ValueError("must be a date written YYYY-MM-DD")


def _e164(value: str) -> str:
    if not _E164_RE.match(value):
        raise ValueError("must be an E.164 phone number: '+' and 8 to 15 digits, e.g. +447700900123")
    return value


def _country(value: str) -> str:
    if value not in ISO_3166_ALPHA2:
        raise ValueError("must be an ISO 3166-1 alpha-2 country code in capitals, e.g. GB")
    return value


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
IsoDate = Annotated[date, BeforeValidator(_iso_date_text)]
PhoneNumber = Annotated[str, AfterValidator(_e164)]
CountryCode = Annotated[str, AfterValidator(_country)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
EmploymentYears = Annotated[StrictInt, Field(ge=0, le=70)]


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


class NonNegativeMoney(Money):
    """Money of a known currency, zero or more (income, expenses, assets, debt)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    amount: Annotated[StrictInt, Field(ge=0, le=MAX_AMOUNT)]


class _InputModel(BaseModel):
    # JSON names only, so that error paths always read as the client wrote them.
    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
        serialize_by_alias=True,
        extra="forbid",
    )


class Address(_InputModel):
    line1: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    line2: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    city: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    region: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
    country: CountryCode


class ProfileInput(_InputModel):
    """Body of ``PUT /v1/profile``."""

    email: Email | None = None
    given_name: Name
    family_name: Name
    date_of_birth: IsoDate
    phone_number: PhoneNumber
    address: Address
    monthly_income: NonNegativeMoney
    monthly_expenses: NonNegativeMoney
    housing: Housing
    employment: Employment
    employment_years: EmploymentYears
    assets: NonNegativeMoney
    debt: NonNegativeMoney


_NOT_NULLABLE = tuple(name for name in ProfileInput.model_fields if name != "email")


class ProfileUpdate(_InputModel):
    """Body of ``PATCH /v1/profile``: any subset of ProfileInput; ``address`` is replaced whole."""

    email: Email | None = None
    given_name: Name | None = None
    family_name: Name | None = None
    date_of_birth: IsoDate | None = None
    phone_number: PhoneNumber | None = None
    address: Address | None = None
    monthly_income: NonNegativeMoney | None = None
    monthly_expenses: NonNegativeMoney | None = None
    housing: Housing | None = None
    employment: Employment | None = None
    employment_years: EmploymentYears | None = None
    assets: NonNegativeMoney | None = None
    debt: NonNegativeMoney | None = None

    @field_validator(*_NOT_NULLABLE, mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Absent means "unchanged"; an explicit null would erase a required field.
        if value is None:
            raise ValueError("may be left out but not null")
        return value


class Customer(BaseModel):
    """The profile as every profile route returns it."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, serialize_by_alias=True)

    id: str
    email: str | None
    given_name: str
    family_name: str
    date_of_birth: date
    phone_number: str
    phone_verified: bool
    address: Address
    monthly_income: Money
    monthly_expenses: Money
    housing: Housing
    employment: Employment
    employment_years: int
    assets: Money
    debt: Money
    created_at: AwareDatetime
    updated_at: AwareDatetime
