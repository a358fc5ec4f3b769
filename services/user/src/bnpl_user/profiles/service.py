"""Profile rules: creation (idempotent), reading, partial update."""

from __future__ import annotations

import logging
from datetime import date

from bnpl_common.clock import Clock
from bnpl_common.idempotency import check_key, ensure_same_request, fingerprint

from bnpl_user.errors import InvalidProfile, ProfileExists, ProfileNotFound
from bnpl_user.profiles.repository import (
    CreateOutcome,
    ProfileRecord,
    ProfileRepository,
    StoredResponse,
)
from bnpl_user.profiles.schemas import Customer, ProfileInput, ProfileUpdate

log = logging.getLogger("bnpl.user.profiles")

MIN_AGE = 18
MAX_AGE = 120
_MONEY_FIELDS = ("monthly_income", "monthly_expenses", "assets", "debt")


def _json_name(field: str) -> str:
    head, *rest = field.split("_")
    return head + "".join(part.capitalize() for part in rest)


def age_on(born: date, today: date) -> int:
    """Completed years; someone born on 29 February turns a year older on 1 March."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def check_profile(data: ProfileInput, *, today: date, changed: set[str] | frozenset[str]) -> None:
    """Rules the schema cannot check alone: the clock (age) and several fields (one currency)."""
    if "date_of_birth" in changed:
        born = data.date_of_birth
        if born > today:
            raise InvalidProfile("dateOfBirth: must not be in the future", field="dateOfBirth")
        age = age_on(born, today)
        if age < MIN_AGE:
            raise InvalidProfile(f"dateOfBirth: the customer must be at least {MIN_AGE}", field="dateOfBirth")
        if age > MAX_AGE:
            raise InvalidProfile(f"dateOfBirth: more than {MAX_AGE} years ago", field="dateOfBirth")
    # The reference currency is one the caller did not just change, so the error names the changed field.
    unchanged = [name for name in _MONEY_FIELDS if name not in changed]
    reference = unchanged[0] if unchanged else _MONEY_FIELDS[0]
    currency = getattr(data, reference).currency
    for name in _MONEY_FIELDS:
        if getattr(data, name).currency != currency:
            field = f"{_json_name(name)}.currency"
            raise InvalidProfile(
                f"{field}: income, expenses, assets and debt must share one currency ({currency})", field=field
            )


def to_customer(record: ProfileRecord) -> Customer:
    return Customer.model_validate(
        {
            **record.data.model_dump(by_alias=True),
            "id": record.sub,
            "phoneVerified": record.phone_verified,
            "createdAt": record.created_at,
            "updatedAt": record.updated_at,
        }
    )


async def get_profile(repo: ProfileRepository, customer_id: str) -> Customer:
    record = await repo.get(customer_id)
    if record is None:
        raise ProfileNotFound()
    return to_customer(record)


async def create_profile(
    repo: ProfileRepository,
    customer_id: str,
    *,
    data: ProfileInput,
    idempotency_key: str | None,
    clock: Clock,
) -> StoredResponse:
    """Create the profile, or answer a retry of the same request as the first time."""
    key = check_key(idempotency_key)
    request_fingerprint = fingerprint({"operation": "PUT /v1/profile", "body": data.model_dump(mode="json")})
    stored = await repo.get_response(customer_id, key)
    if stored is not None:
        ensure_same_request(stored.fingerprint, request_fingerprint)
        return stored
    now = clock.now()
    check_profile(data, today=now.date(), changed=frozenset(ProfileInput.model_fields))
    record = ProfileRecord(sub=customer_id, data=data, phone_verified=False, created_at=now, updated_at=now)
    response = StoredResponse(request_fingerprint, 201, to_customer(record).model_dump(mode="json"))
    result = await repo.create(record, key=key, response=response)
    if result.outcome is CreateOutcome.PROFILE_EXISTS:
        raise ProfileExists()
    if result.outcome is CreateOutcome.REPLAYED and result.response is not None:
        # A concurrent retry with the same key won the race.
        ensure_same_request(result.response.fingerprint, request_fingerprint)
        return result.response
    log.info("profile created", extra={"customer_id": customer_id})
    return response


async def update_profile(
    repo: ProfileRepository, customer_id: str, *, changes: ProfileUpdate, clock: Clock
) -> Customer:
    """Apply a partial update; a new phone number has to be verified again."""
    changed = frozenset(changes.model_fields_set)
    if not changed:
        return await get_profile(repo, customer_id)
    now = clock.now()

    def apply(current: ProfileRecord) -> ProfileRecord:
        merged = current.data.model_copy(update={name: getattr(changes, name) for name in changed})
        check_profile(merged, today=now.date(), changed=changed)
        new_phone = merged.phone_number != current.data.phone_number
        return ProfileRecord(
            sub=current.sub,
            data=merged,
            phone_verified=current.phone_verified and not new_phone,
            created_at=current.created_at,
            updated_at=now,
        )

    record = await repo.update(customer_id, apply)
    if record is None:
        raise ProfileNotFound()
    log.info("profile updated", extra={"customer_id": customer_id, "fields": sorted(changed)})
    return to_customer(record)
