"""What the merchant registry needs from storage (both credit store adapters implement it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bnpl_common.errors import Conflict

from bnpl_credit.audit.model import AuditRecord
from bnpl_credit.merchants.model import Merchant


class MerchantConflict(Conflict):
    """The merchant changed meanwhile (version), already exists, or an access key id is taken."""

    error_type = "MerchantConflict"


class MerchantStore(Protocol):
    async def get_merchant(self, merchant_id: str) -> Merchant | None: ...

    async def merchant_by_access_key(self, access_key_id: str) -> Merchant | None:
        """The merchant owning this key id (retired keys included: the caller checks validity)."""
        ...

    async def list_merchants(self) -> list[Merchant]:
        """Every merchant, by id."""
        ...

    async def put_merchant(
        self, merchant: Merchant, *, expected_version: int | None, audit: Sequence[AuditRecord] = ()
    ) -> Merchant:
        """Store ``merchant``: a new one when ``expected_version`` is ``None`` (refused if the id
        exists), else only if the stored version is ``expected_version``. Returns the stored
        merchant (version + 1); :class:`MerchantConflict` otherwise. Access key ids are unique
        across merchants. ``audit``: a staff action's records, in the same write."""
        ...
