"""The storage port of profiles and their idempotency records.

Adapters (``bnpl_user.storage``) serialize and write conditionally; they decide nothing.
"""

from __future__ import annotations

from typing import Protocol

from bnpl_common.idempotency import StoredResponse

from bnpl_user.profiles.model import CreateResult, Profile


class ProfileStore(Protocol):
    async def get_profile(self, sub: str) -> Profile | None: ...

    async def get_response(self, sub: str, key: str) -> StoredResponse | None:
        """The first answer given to the customer's idempotency ``key``, if any."""
        ...

    async def create_profile(self, profile: Profile, *, key: str, response: StoredResponse) -> CreateResult:
        """Store ``profile`` (as version 1) and ``response`` under ``key`` together, unless the key
        was used (``REPLAYED``, with the stored answer) or the customer has a profile
        (``PROFILE_EXISTS``); then nothing is written."""
        ...

    async def save_profile(self, profile: Profile, *, drop_challenge: bool = False) -> Profile:
        """Replace the stored profile if it is still at ``profile.version``; return what was
        stored (version + 1). ``drop_challenge`` deletes the customer's phone challenge in the
        same write. Raises :class:`~bnpl_common.errors.ConcurrentUpdate` when the version moved
        or the profile is gone."""
        ...
