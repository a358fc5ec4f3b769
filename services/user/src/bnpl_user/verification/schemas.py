"""Request and response bodies of ``/v1/profile/phone-verification``."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, StringConstraints
from pydantic.alias_generators import to_camel


class VerificationChallenge(BaseModel):
    """A code is on its way; where to, until when, and how many tries it allows."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, serialize_by_alias=True)

    destination: str
    expires_at: AwareDatetime
    attempts_remaining: int


class ConfirmCode(BaseModel):
    """Body of the confirm call."""

    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]
