"""The merchant registry on DynamoDB (mixed into :class:`~bnpl_credit.storage.dynamodb.DynamoStore`).

Items: the merchant ``MERCHANT#<id>``/``MERCHANT`` (``version``, ``doc``; GSI3 ``MERCHANTS`` by
id for the list) and one pointer per access key ``MKEY#<accessKeyId>``/``MKEY`` (``merchantId``),
written in the same transaction, so a key id belongs to one merchant only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bnpl_common.dynamodb import TransactionCancelled, TransactOp, delete, put

from bnpl_credit.audit.model import AuditRecord
from bnpl_credit.merchants.model import Merchant
from bnpl_credit.merchants.ports import MerchantConflict
from bnpl_credit.storage.documents import dumps, loads
from bnpl_credit.storage.merchant_documents import merchant_doc, merchant_from_doc

Row = dict[str, Any]


def merchant_pk(merchant_id: str) -> str:
    return f"MERCHANT#{merchant_id}"


def merchant_of(row: Row) -> Merchant:
    return merchant_from_doc(loads(row["doc"]), int(row["version"]))


class DynamoMerchants:
    """``MerchantStore`` on the store's table."""

    table: str

    # provided by DynamoStore
    async def _get(self, pk: str, sk: str) -> Row | None:
        raise NotImplementedError

    async def _query(self, *, values: Mapping[str, Any], limit: int | None = None, **kwargs: Any) -> list[Row]:
        raise NotImplementedError

    async def _transact(self, operations: Sequence[TransactOp]) -> None:
        raise NotImplementedError

    if TYPE_CHECKING:

        def _audit_puts(self, records: Sequence[AuditRecord]) -> list[TransactOp]: ...  # DynamoReviews'

    async def get_merchant(self, merchant_id: str) -> Merchant | None:
        row = await self._get(merchant_pk(merchant_id), "MERCHANT")
        return merchant_of(row) if row else None

    async def merchant_by_access_key(self, access_key_id: str) -> Merchant | None:
        pointer = await self._get(f"MKEY#{access_key_id}", "MKEY")
        return await self.get_merchant(str(pointer["merchantId"])) if pointer else None

    async def list_merchants(self) -> list[Merchant]:
        rows = await self._query(
            IndexName="GSI3",
            KeyConditionExpression="GSI3PK = :pk",
            values={":pk": "MERCHANTS"},
        )
        # the index is eventually consistent: read each one back from the table
        found = [await self.get_merchant(str(r["id"])) for r in rows]
        return sorted((m for m in found if m is not None), key=lambda m: m.id)

    async def put_merchant(
        self, merchant: Merchant, *, expected_version: int | None, audit: Sequence[AuditRecord] = ()
    ) -> Merchant:
        stored = replace(merchant, version=(expected_version or 0) + 1)
        previous = await self.get_merchant(merchant.id) if expected_version is not None else None
        item: Row = {
            "PK": merchant_pk(stored.id),
            "SK": "MERCHANT",
            "GSI3PK": "MERCHANTS",
            "GSI3SK": stored.id,
            "id": stored.id,
            "version": stored.version,
            "doc": dumps(merchant_doc(stored)),
        }
        if expected_version is None:
            ops = [put("merchant", self.table, item, condition="attribute_not_exists(PK)")]
        else:
            ops = [
                put(
                    "merchant",
                    self.table,
                    item,
                    condition="attribute_exists(PK) AND version = :v",
                    values={":v": expected_version},
                )
            ]
        new_ids = {k.access_key_id for k in stored.keys}
        old_ids = {k.access_key_id for k in previous.keys} if previous else set()
        for key_id in sorted(new_ids - old_ids):
            ops.append(
                put(
                    f"key:{key_id}",
                    self.table,
                    {"PK": f"MKEY#{key_id}", "SK": "MKEY", "merchantId": stored.id},
                    condition="attribute_not_exists(PK) OR merchantId = :m",
                    values={":m": stored.id},
                )
            )
        for key_id in sorted(old_ids - new_ids):
            ops.append(
                delete(
                    f"key:{key_id}",
                    self.table,
                    {"PK": f"MKEY#{key_id}", "SK": "MKEY"},
                    condition="merchantId = :m",
                    values={":m": stored.id},
                )
            )
        ops += self._audit_puts(audit)
        try:
            await self._transact(ops)
        except TransactionCancelled as cancelled:
            if cancelled.condition_failed("merchant"):
                message = "a merchant with this id exists" if expected_version is None else "the merchant changed"
                raise MerchantConflict(message, field="merchantId") from None
            raise MerchantConflict("this access key id is taken", field="accessKeyId") from None
        return stored
