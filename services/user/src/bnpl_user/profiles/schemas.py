"""Request and response bodies of ``/v1/profile`` (camelCase JSON, as the GraphQL fields), and
their mapping to and from the profile records: the only place profile JSON is validated."""

from __future__ import annotations

import re
from dataclasses import asdict, replace
from datetime import date, datetime
from typing import Annotated, Any

from bnpl_common.money import MAX_AMOUNT, Money
from bnpl_common.text import check_plain_text
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
from bnpl_user.profiles import model
from bnpl_user.profiles.model import Employment, Housing

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


# Free text typed by a person: stripped, bounded, no control or invisible characters.
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), AfterValidator(check_plain_text)
]
AddressLine = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(check_plain_text)
]
OptionalLine = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(check_plain_text)
]
Region = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100), AfterValidator(check_plain_text)]
PostalCode = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20), AfterValidator(check_plain_text)
]
IsoDate = Annotated[date, BeforeValidator(_iso_date_text)]
PhoneNumber = Annotated[str, AfterValidator(_e164)]
CountryCode = Annotated[str, AfterValidator(_country)]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
    AfterValidator(check_plain_text),
]
EmploymentYears = Annotated[StrictInt, Field(ge=0, le=70)]


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
    line1: AddressLine
    line2: OptionalLine | None = None
    city: Name
    region: Region | None = None
    postal_code: PostalCode
    country: CountryCode

    def to_record(self) -> model.Address:
        return model.Address(
            line1=self.line1,
            line2=self.line2,
            city=self.city,
            region=self.region,
            postal_code=self.postal_code,
            country=self.country,
        )


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

    def to_details(self) -> model.ProfileDetails:
        return model.ProfileDetails(**{name: _to_record(getattr(self, name)) for name in model.DETAIL_FIELDS})


def _to_record(value: Any) -> Any:
    """A validated field value as the records hold it (plain Money, a record Address)."""
    if isinstance(value, Money):
        return Money(amount=value.amount, currency=value.currency)
    if isinstance(value, Address):
        return value.to_record()
    return value


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

    def changed_fields(self) -> frozenset[str]:
        return frozenset(self.model_fields_set)

    def apply_to(self, details: model.ProfileDetails) -> model.ProfileDetails:
        return replace(details, **{name: _to_record(getattr(self, name)) for name in self.model_fields_set})


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
    finance_version: int = Field(description="moves with every change of the declared finances")
    created_at: AwareDatetime
    updated_at: AwareDatetime

    @classmethod
    def from_profile(cls, profile: model.Profile) -> Customer:
        details = profile.details
        return cls(
            id=profile.sub,
            email=details.email,
            given_name=details.given_name,
            family_name=details.family_name,
            date_of_birth=details.date_of_birth,
            phone_number=details.phone_number,
            phone_verified=profile.phone_verified,
            address=Address.model_validate(asdict(details.address), by_name=True),
            monthly_income=details.monthly_income,
            monthly_expenses=details.monthly_expenses,
            housing=details.housing,
            employment=details.employment,
            employment_years=details.employment_years,
            assets=details.assets,
            debt=details.debt,
            finance_version=profile.finance_version,
            created_at=profile.created_at,
            updated_at=profile.updated_at,
        )
