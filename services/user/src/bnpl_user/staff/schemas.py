"""HTTP schemas of the staff routes: masked matches, the reason a full view needs, audit records."""

from __future__ import annotations

from typing import Annotated

from bnpl_common.text import check_plain_text
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel

from bnpl_user.profiles import model
from bnpl_user.staff.model import StaffAuditRecord, mask_email, mask_phone


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, serialize_by_alias=True)


class CustomerMatch(_Camel):
    """A customer as a lookup shows it: enough to pick the right one, masked."""

    customer_id: str
    email: str | None = Field(description="masked: first letter and domain")
    phone_number: str = Field(description="masked: country prefix and last three digits")
    given_name: str
    family_initial: str
    phone_verified: bool
    created_at: AwareDatetime

    @classmethod
    def of(cls, profile: model.Profile) -> CustomerMatch:
        details = profile.details
        return cls(
            customer_id=profile.sub,
            email=mask_email(details.email),
            phone_number=mask_phone(details.phone_number),
            given_name=details.given_name,
            family_initial=details.family_name[:1],
            phone_verified=profile.phone_verified,
            created_at=profile.created_at,
        )


class CustomerMatches(_Camel):
    items: list[CustomerMatch]


Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=5, max_length=500), AfterValidator(check_plain_text)
]


class ProfileViewInput(_Camel):
    reason: Reason = Field(description="why the full profile is needed (recorded)")
    case_id: str | None = Field(default=None, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")


class StaffAuditOut(_Camel):
    id: str
    at: AwareDatetime
    actor: str
    actor_groups: list[str]
    action: str
    customer_ids: list[str]
    reason: str | None
    case_id: str | None
    details: dict[str, object]

    @classmethod
    def of(cls, record: StaffAuditRecord) -> StaffAuditOut:
        return cls(
            id=record.id,
            at=record.at,
            actor=record.actor,
            actor_groups=list(record.actor_groups),
            action=str(record.action),
            customer_ids=list(record.customer_ids),
            reason=record.reason,
            case_id=record.case_id,
            details=dict(record.details),
        )


class StaffAuditPage(_Camel):
    items: list[StaffAuditOut]
    next_token: str | None = None  # the next (older) page's, None on the last
