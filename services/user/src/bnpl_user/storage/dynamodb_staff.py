"""Staff reads on DynamoDB (mixed into ``DynamoUserStore``).

- ``PK = EMAIL#<SHA-256 of the lower-cased e-mail>``, ``SK = <sub>``: a pointer written with
  every profile write that has an e-mail; a lookup reads the profiles and keeps those whose
  e-mail still matches (a changed e-mail leaves a stale pointer behind, never a wrong match).
- ``PK = STAFFAUDIT#<sub>``, ``SK = <at>#<id>``: one item per customer a record names, put only
  if absent (the task role is denied UpdateItem and DeleteItem on these keys in AWS).
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from bnpl_common.aio import run_blocking
from bnpl_common.dynamodb import TransactOp, from_item, put, to_item, transact_write
from bnpl_common.timefmt import format_instant

from bnpl_user.profiles.model import Profile
from bnpl_user.staff.documents import audit_doc, audit_from_doc
from bnpl_user.staff.model import StaffAuditCursor, StaffAuditRecord


def email_pk(email: str) -> str:
    return "EMAIL#" + hashlib.sha256(email.strip().lower().encode()).hexdigest()


def audit_pk(customer_id: str) -> str:
    return f"STAFFAUDIT#{customer_id}"


class DynamoStaffReads:
    """The ``StaffStore`` part of ``DynamoUserStore``."""

    _client: Any
    _table: str

    if TYPE_CHECKING:

        async def get_profile(self, sub: str) -> Profile | None: ...

    def email_pointer_put(self, profile: Profile) -> TransactOp | None:
        """The pointer a profile write adds to its transaction (None without an e-mail)."""
        if not profile.details.email:
            return None
        return put("email", self._table, {"PK": email_pk(profile.details.email), "SK": profile.sub})

    async def profiles_by_email(self, email: str, *, limit: int) -> list[Profile]:
        def query() -> list[str]:
            out = self._client.query(
                TableName=self._table,
                KeyConditionExpression="PK = :pk",
                ExpressionAttributeValues=to_item({":pk": email_pk(email)}),
                Limit=limit,
            )
            return [str(from_item(i)["SK"]) for i in out.get("Items", [])]

        found = []
        for sub in await run_blocking(query):
            profile = await self.get_profile(sub)
            if profile is not None and (profile.details.email or "").lower() == email.strip().lower():
                found.append(profile)
        return found

    async def append_staff_audit(self, record: StaffAuditRecord) -> None:
        doc = json.dumps(audit_doc(record))
        sk = f"{format_instant(record.at)}#{record.id}"
        operations = [
            put(
                f"audit:{n}",
                self._table,
                {"PK": audit_pk(c), "SK": sk, "doc": doc},
                condition="attribute_not_exists(PK)",
            )
            for n, c in enumerate((*record.customer_ids, f"staff:{record.actor}"))
        ]
        await run_blocking(transact_write, self._client, operations)

    async def list_staff_audit(
        self, customer_id: str, *, limit: int, after: StaffAuditCursor | None = None
    ) -> list[StaffAuditRecord]:
        condition, values = "PK = :pk", {":pk": audit_pk(customer_id)}
        if after is not None:  # the SK is ``<at>#<id>``: strictly older than the page's last record
            condition += " AND SK < :after"
            values[":after"] = f"{format_instant(after.at)}#{after.record_id}"

        def query() -> list[StaffAuditRecord]:
            out = self._client.query(
                TableName=self._table,
                KeyConditionExpression=condition,
                ExpressionAttributeValues=to_item(values),
                ScanIndexForward=False,
                Limit=limit,
                ConsistentRead=True,
            )
            return [audit_from_doc(json.loads(from_item(i)["doc"])) for i in out.get("Items", [])]

        return await run_blocking(query)
