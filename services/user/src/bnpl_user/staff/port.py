"""What staff reads need from the store: profiles by e-mail, and the append-only audit log."""

from __future__ import annotations

from typing import Protocol

from bnpl_user.profiles.model import Profile
from bnpl_user.staff.model import StaffAuditCursor, StaffAuditRecord


class StaffStore(Protocol):
    async def profiles_by_email(self, email: str, *, limit: int) -> list[Profile]:
        """Profiles whose e-mail is ``email`` (compared case-insensitively)."""
        ...

    async def append_staff_audit(self, record: StaffAuditRecord) -> None:
        """Store one record; records are never changed or deleted."""
        ...

    async def list_staff_audit(
        self, customer_id: str, *, limit: int, after: StaffAuditCursor | None = None
    ) -> list[StaffAuditRecord]:
        """A customer's records, newest first; with ``after``, those older than that record."""
        ...
