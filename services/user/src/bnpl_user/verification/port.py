"""The storage port of phone verification (it reads and verifies profiles too).

Every write is conditional on the records being as they were read (a challenge by its id
and spent tries, a usage log or a profile by its version) and raises
:class:`~bnpl_common.errors.ConcurrentUpdate`, writing nothing, when one moved: the
verification service then reads and decides again. Adapters hold no rule of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bnpl_user.profiles.model import Profile
from bnpl_user.profiles.port import ProfileStore
from bnpl_user.verification.model import Challenge, NumberOwner, UsageLog, UsageScope, VerificationState


class VerificationStore(ProfileStore, Protocol):
    async def get_challenge(self, sub: str) -> Challenge | None: ...

    async def get_usage(self, scope: UsageScope) -> UsageLog:
        """The scope's log (empty, version 0, when none is stored)."""
        ...

    async def verification_state(self, sub: str) -> VerificationState:
        """The profile, the challenge and the customer's usage log, in one consistent read."""
        ...

    async def save_challenge(
        self, challenge: Challenge, *, replacing: Challenge | None, profile: Profile, usage: Sequence[UsageLog]
    ) -> None:
        """Make ``challenge`` the customer's challenge and store the ``usage`` logs, all or
        nothing, if the stored challenge is still ``replacing`` (None: none), ``profile`` still
        at its version and each log still at its version."""
        ...

    async def discard_challenge(self, sub: str, challenge_id: str) -> None:
        """Delete the customer's challenge if it is still ``challenge_id`` (else nothing)."""
        ...

    async def spend_attempt(self, challenge: Challenge, *, usage: UsageLog) -> None:
        """Store ``challenge`` (one more try spent) and ``usage`` together, if the stored
        challenge is the same one with one try fewer spent and the log still at its version."""
        ...

    async def verify_phone(self, challenge: Challenge, profile: Profile) -> Profile:
        """Delete ``challenge`` (if unchanged: same id, same tries spent) and save ``profile``
        (if still at its version) together; return the stored profile."""
        ...

    async def number_owner(self, number_key: str) -> NumberOwner | None:
        """Who first verified the number that ``number_key`` (an HMAC of it) names, if anyone."""
        ...

    async def claim_number(self, number_key: str, owner: NumberOwner, *, replacing: str | None = None) -> None:
        """Record ``owner`` as the number's owner if it has none, or if its owner is still the
        account ``replacing`` (an owner that no longer holds the number verified); else nothing
        changes."""
        ...
