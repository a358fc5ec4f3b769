"""The JSON both adapters store a profile's details as (SQLite ``profiles.data``, DynamoDB
``profile``): camelCase, money as ``{"amount", "currency"}``, dates ``YYYY-MM-DD``. It is
the shape earlier versions wrote, so stored profiles stay readable; values are trusted
(they were validated on the way in), not validated again.

The same JSON holds the finance version and its history (``financeVersion``,
``financeHistory``): written with the profile in one write, so a change and its record of what
changed land together. Profiles written before they existed read as version 1, no history.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from bnpl_common.money import Money
from bnpl_common.timefmt import format_instant, parse_instant

from bnpl_user.profiles.model import Address, Employment, FinanceChange, Housing, Profile, ProfileDetails


def _money(value: Money) -> dict[str, Any]:
    return {"amount": value.amount, "currency": value.currency}


def _money_from(raw: dict[str, Any]) -> Money:
    return Money(amount=int(raw["amount"]), currency=str(raw["currency"]))


def dumps(details: ProfileDetails) -> str:
    return json.dumps(_details_json(details), separators=(",", ":"))


def dumps_profile(profile: Profile) -> str:
    """The details with the finance version and history (what the adapters store)."""
    return json.dumps(
        {
            **_details_json(profile.details),
            "financeVersion": profile.finance_version,
            "financeHistory": [
                {
                    "version": change.version,
                    "at": format_instant(change.at),
                    "changes": [{"field": f, "from": before, "to": after} for f, before, after in change.changes],
                }
                for change in profile.finance_history
            ],
        },
        separators=(",", ":"),
    )


def finances(text: str) -> dict[str, Any]:
    """``finance_version`` and ``finance_history`` of a stored profile (keyword arguments of Profile)."""
    raw = json.loads(text)
    history = tuple(
        FinanceChange(
            version=int(entry["version"]),
            at=parse_instant(entry["at"]),
            changes=tuple((c["field"], c["from"], c["to"]) for c in entry["changes"]),
        )
        for entry in raw.get("financeHistory", [])
    )
    return {"finance_version": int(raw.get("financeVersion", 1)), "finance_history": history}


def _details_json(details: ProfileDetails) -> dict[str, Any]:
    address = details.address
    return {
        "email": details.email,
        "givenName": details.given_name,
        "familyName": details.family_name,
        "dateOfBirth": details.date_of_birth.isoformat(),
        "phoneNumber": details.phone_number,
        "address": {
            "line1": address.line1,
            "line2": address.line2,
            "city": address.city,
            "region": address.region,
            "postalCode": address.postal_code,
            "country": address.country,
        },
        "monthlyIncome": _money(details.monthly_income),
        "monthlyExpenses": _money(details.monthly_expenses),
        "housing": details.housing.value,
        "employment": details.employment.value,
        "employmentYears": details.employment_years,
        "assets": _money(details.assets),
        "debt": _money(details.debt),
    }


def loads(text: str) -> ProfileDetails:
    raw = json.loads(text)
    address = raw["address"]
    return ProfileDetails(
        email=raw.get("email"),
        given_name=raw["givenName"],
        family_name=raw["familyName"],
        date_of_birth=date.fromisoformat(raw["dateOfBirth"]),
        phone_number=raw["phoneNumber"],
        address=Address(
            line1=address["line1"],
            line2=address.get("line2"),
            city=address["city"],
            region=address.get("region"),
            postal_code=address["postalCode"],
            country=address["country"],
        ),
        monthly_income=_money_from(raw["monthlyIncome"]),
        monthly_expenses=_money_from(raw["monthlyExpenses"]),
        housing=Housing(raw["housing"]),
        employment=Employment(raw["employment"]),
        employment_years=int(raw["employmentYears"]),
        assets=_money_from(raw["assets"]),
        debt=_money_from(raw["debt"]),
    )
