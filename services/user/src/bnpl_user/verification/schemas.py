"""Request and response bodies of ``/v1/profile/phone-verification``, mapped from the records."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, StringConstraints
from pydantic.alias_generators import to_camel

from bnpl_user.verification.model import Challenge


def mask_phone(phone: str) -> str:
    """``+447700900789`` -> ``+44*******789``."""
    return phone[:3] + "*" * max(len(phone) - 6, 0) + phone[-3:]


class VerificationChallenge(BaseModel):
    """A code is on its way; where to, until when, and how many tries it allows."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, serialize_by_alias=True)

    destination: str
    expires_at: AwareDatetime
    attempts_remaining: int

    @classmethod
    def from_challenge(cls, challenge: Challenge) -> VerificationChallenge:
        return cls(
            destination=mask_phone(challenge.phone_number),
            expires_at=challenge.expires_at,
            attempts_remaining=challenge.attempts_remaining,
        )


class ConfirmCode(BaseModel):
    """Body of the confirm call."""

    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]
