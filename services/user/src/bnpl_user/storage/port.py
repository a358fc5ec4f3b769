"""What ``storage.factory.build_store`` returns: every port the service uses, plus the
adapter's own start-up and health check."""

from __future__ import annotations

from typing import Protocol

from bnpl_user.staff.port import StaffStore
from bnpl_user.verification.port import VerificationStore


class UserStore(VerificationStore, StaffStore, Protocol):
    async def prepare(self) -> None:
        """Make the store usable (SQLite: the file, schema and migrations; DynamoDB: nothing,
        the table is made by CloudFormation, the compose init container or the tests)."""
        ...

    async def ping(self) -> bool:
        """Can the store be read and written now (readiness)?"""
        ...
