"""Profile rules: creation (idempotent), reading, partial update."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date

from bnpl_common.clock import Clock
from bnpl_common.dates import age_on
from bnpl_common.idempotency import StoredResponse, check_key, ensure_same_request, fingerprint
from bnpl_common.retry import retry_on_contention

from bnpl_user.errors import InvalidProfile, ProfileExists, ProfileNotFound
from bnpl_user.profiles.finances import FinancePolicy, with_finance_change
from bnpl_user.profiles.model import DETAIL_FIELDS, MONEY_FIELDS, CreateOutcome, Profile, ProfileChanges, ProfileDetails
from bnpl_user.profiles.port import ProfileStore
from bnpl_user.profiles.schemas import Customer, ProfileInput

log = logging.getLogger("bnpl.user.profiles")

MIN_AGE = 18
MAX_AGE = 120
# Years of employment count from this age at the earliest: the ILO's minimum age for work
# (Convention 138) is 15, 14 where a country's economy is still developing; anything earlier is
# not employment history a lender may count, and more years than that raise the score unearned.
EARLIEST_WORKING_AGE = 14


def _json_name(field: str) -> str:
    head, *rest = field.split("_")
    return head + "".join(part.capitalize() for part in rest)


def check_profile(details: ProfileDetails, *, today: date, changed: frozenset[str]) -> None:
    """Rules the schema cannot check alone: the clock (age) and several fields (one currency)."""
    if "date_of_birth" in changed:
        born = details.date_of_birth
        if born > today:
            raise InvalidProfile("dateOfBirth: must not be in the future", field="dateOfBirth")
        age = age_on(born, today)
        if age < MIN_AGE:
            raise InvalidProfile(f"dateOfBirth: the customer must be at least {MIN_AGE}", field="dateOfBirth")
        if age > MAX_AGE:
            raise InvalidProfile(f"dateOfBirth: more than {MAX_AGE} years ago", field="dateOfBirth")
    if changed & {"date_of_birth", "employment_years"}:
        most = max(age_on(details.date_of_birth, today) - EARLIEST_WORKING_AGE, 0)
        if details.employment_years > most:
            # name what the caller changed: a new date of birth can make the stored years too many
            field = "employmentYears" if "employment_years" in changed else "dateOfBirth"
            raise InvalidProfile(
                f"{field}: employmentYears is at most {most}, the years since the age of {EARLIEST_WORKING_AGE}",
                field=field,
            )
    # The reference currency is one the caller did not just change, so the error names the changed field.
    unchanged = [name for name in MONEY_FIELDS if name not in changed]
    reference = unchanged[0] if unchanged else MONEY_FIELDS[0]
    currency = getattr(details, reference).currency
    for name in MONEY_FIELDS:
        if getattr(details, name).currency != currency:
            field = f"{_json_name(name)}.currency"
            raise InvalidProfile(
                f"{field}: income, expenses, assets and debt must share one currency ({currency})", field=field
            )


async def get_profile(store: ProfileStore, customer_id: str) -> Profile:
    profile = await store.get_profile(customer_id)
    if profile is None:
        raise ProfileNotFound()
    return profile


def create_fingerprint(body: ProfileInput) -> str:
    """What makes two ``PUT /v1/profile`` requests "the same" for their idempotency key."""
    return fingerprint({"operation": "PUT /v1/profile", "body": body.model_dump(mode="json")})


async def create_profile(
    store: ProfileStore,
    customer_id: str,
    *,
    details: ProfileDetails,
    request_fingerprint: str,
    idempotency_key: str | None,
    clock: Clock,
) -> StoredResponse:
    """Create the profile, or answer a retry of the same request as the first time."""
    key = check_key(idempotency_key)

    async def attempt() -> StoredResponse:
        stored = await store.get_response(customer_id, key)
        if stored is not None:
            ensure_same_request(stored.fingerprint, request_fingerprint)
            return stored
        now = clock.now()
        check_profile(details, today=now.date(), changed=DETAIL_FIELDS)
        profile = Profile(sub=customer_id, details=details, phone_verified=False, created_at=now, updated_at=now)
        # The first answer is stored with the profile, so a retry gets exactly these bytes back.
        response = StoredResponse(request_fingerprint, 201, Customer.from_profile(profile).model_dump(mode="json"))
        result = await store.create_profile(profile, key=key, response=response)
        if result.outcome is CreateOutcome.PROFILE_EXISTS:
            raise ProfileExists()
        if result.outcome is CreateOutcome.REPLAYED and result.response is not None:
            # A concurrent retry with the same key won the race.
            ensure_same_request(result.response.fingerprint, request_fingerprint)
            return result.response
        log.info("profile created", extra={"customer_id": customer_id})
        return response

    return await retry_on_contention(attempt)


async def update_profile(
    store: ProfileStore,
    customer_id: str,
    *,
    changes: ProfileChanges,
    clock: Clock,
    finances: FinancePolicy | None = None,
) -> Profile:
    """Apply a partial update; a new phone number has to be verified again (and the code sent
    to the old one is void). A change of the declared finances moves their version and is
    recorded (``profiles.finances``)."""
    finance_policy = finances or FinancePolicy()
    changed = changes.changed_fields()

    async def attempt() -> Profile:
        current = await get_profile(store, customer_id)
        if not changed:
            return current
        now = clock.now()
        details = changes.apply_to(current.details)
        check_profile(details, today=now.date(), changed=changed)
        new_phone = details.phone_number != current.details.phone_number
        updated = replace(
            current, details=details, phone_verified=current.phone_verified and not new_phone, updated_at=now
        )
        updated = with_finance_change(current, updated, now=now, policy=finance_policy)
        return await store.save_profile(updated, drop_challenge=new_phone)

    profile = await retry_on_contention(attempt)
    if changed:
        log.info("profile updated", extra={"customer_id": customer_id, "fields": sorted(changed)})
    return profile
