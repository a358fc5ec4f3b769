"""The signed profile snapshot: what the credit service decides on (``GET /v1/profile/snapshot``).

The profile as ``GET /v1/profile`` serves it, plus the person key (once the phone is verified:
the number is then the customer's, so it may tie accounts together), signed by this service
(``bnpl_common.profile_signature``): the gateway passes it through, the credit service verifies
it, so a caller holding only the gateway's credential cannot change an income.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bnpl_common.profile_signature import ProfileSigner
from bnpl_common.timefmt import format_instant
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from bnpl_user.persons import person_key
from bnpl_user.profiles.model import Profile
from bnpl_user.profiles.schemas import Customer


class SignedProfile(BaseModel):
    """Body of ``GET /v1/profile/snapshot``: ``signature`` covers ``profile`` and ``signedAt``."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, serialize_by_alias=True)

    profile: dict[str, Any]
    signed_at: str
    signature: str


def snapshot_json(profile: Profile, *, person_secret: str) -> dict[str, Any]:
    """The profile as the credit service receives it (JSON)."""
    body = Customer.from_profile(profile).model_dump(mode="json", by_alias=True)
    details = profile.details
    body["personKey"] = (
        person_key(
            person_secret,
            phone_number=details.phone_number,
            family_name=details.family_name,
            date_of_birth=details.date_of_birth,
        )
        if profile.phone_verified
        else None
    )
    return body


def signed_snapshot(profile: Profile, *, signer: ProfileSigner, person_secret: str) -> SignedProfile:
    # Real time, not the business clock: the credit service checks the signature's age as it
    # checks a SigV4 signature's, against its own real clock.
    signed_at = format_instant(datetime.now(UTC))
    body = snapshot_json(profile, person_secret=person_secret)
    return SignedProfile(profile=body, signed_at=signed_at, signature=signer.sign(body, signed_at))
