"""Payment profiles and plan collections on DynamoDB (mixed into ``DynamoStore``).

Items: ``CUST#<sub>``/``PAYMENT_PROFILE`` (the PSP customer and the method on file) and
``PLAN#<planId>``/``COLLECTION`` (the scheduler's attempts; a ``version`` attribute makes each
write conditional on the one read), ``SETUP#<setupId>``/``SETUP`` (whose setup it is, for the PSP's
webhooks), ``PSPEVENT#<eventId>``/``PSP_EVENT`` (a PSP webhook applied; ``ttl``) and
``PENDING_REFUNDS``/``REFUND#<key>`` (refund parts the PSP did not take yet: rare, one partition).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from bnpl_common.aio import run_blocking
from bnpl_common.dynamodb import from_item, to_item

from bnpl_credit.collections.documents import collection_doc, collection_from_doc, profile_doc, profile_from_doc
from bnpl_credit.collections.model import PaymentProfile, PendingRefund, PlanCollection
from bnpl_credit.errors import ConcurrentUpdate


class DynamoPayments:
    """The ``PaymentStore`` port."""

    _client: Any
    table: str

    def _get_doc(self, pk: str, sk: str) -> tuple[dict[str, Any], int] | None:
        out = self._client.get_item(TableName=self.table, Key=to_item({"PK": pk, "SK": sk}), ConsistentRead=True)
        if "Item" not in out:
            return None
        item = from_item(out["Item"])
        return json.loads(str(item["doc"])), int(item["version"])

    async def get_payment_profile(self, customer_id: str) -> PaymentProfile | None:
        found = await run_blocking(self._get_doc, f"CUST#{customer_id}", "PAYMENT_PROFILE")
        return None if found is None else profile_from_doc(found[0])

    async def save_payment_profile(self, profile: PaymentProfile) -> None:
        item = {
            "PK": f"CUST#{profile.customer_id}",
            "SK": "PAYMENT_PROFILE",
            "version": 1,
            "doc": json.dumps(profile_doc(profile), separators=(",", ":")),
        }
        await run_blocking(lambda: self._client.put_item(TableName=self.table, Item=to_item(item)))

    async def get_plan_collection(self, plan_id: str) -> PlanCollection | None:
        found = await run_blocking(self._get_doc, f"PLAN#{plan_id}", "COLLECTION")
        return None if found is None else collection_from_doc(*found)

    async def save_plan_collection(self, collection: PlanCollection) -> None:
        item = {
            "PK": f"PLAN#{collection.plan_id}",
            "SK": "COLLECTION",
            "version": collection.version + 1,
            "doc": json.dumps(collection_doc(collection), separators=(",", ":")),
        }
        if collection.version == 0:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(PK)"}
        else:
            condition = {
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": to_item({":v": collection.version}),
            }

        def put() -> None:
            try:
                self._client.put_item(TableName=self.table, Item=to_item(item), **condition)
            except self._client.exceptions.ConditionalCheckFailedException:
                raise ConcurrentUpdate("the plan's collection changed meanwhile", field="planId") from None

        await run_blocking(put)

    async def save_setup_owner(self, setup_id: str, customer_id: str) -> None:
        item = {"PK": f"SETUP#{setup_id}", "SK": "SETUP", "customerId": customer_id}
        await run_blocking(lambda: self._client.put_item(TableName=self.table, Item=to_item(item)))

    async def get_setup_owner(self, setup_id: str) -> str | None:
        def get() -> str | None:
            key = to_item({"PK": f"SETUP#{setup_id}", "SK": "SETUP"})
            out = self._client.get_item(TableName=self.table, Key=key, ConsistentRead=True)
            return str(from_item(out["Item"])["customerId"]) if "Item" in out else None

        return await run_blocking(get)

    async def psp_event_seen(self, event_id: str) -> bool:
        def get() -> bool:
            key = to_item({"PK": f"PSPEVENT#{event_id}", "SK": "PSP_EVENT"})
            return "Item" in self._client.get_item(TableName=self.table, Key=key, ConsistentRead=True)

        return await run_blocking(get)

    async def mark_psp_event(self, event_id: str, *, expires_at: int) -> None:
        item = {"PK": f"PSPEVENT#{event_id}", "SK": "PSP_EVENT", "ttl": expires_at}
        await run_blocking(lambda: self._client.put_item(TableName=self.table, Item=to_item(item)))

    async def save_pending_refund(self, pending: PendingRefund) -> None:
        item = {
            "PK": "PENDING_REFUNDS",
            "SK": f"REFUND#{pending.key}",
            "doc": json.dumps(asdict(pending), separators=(",", ":")),
        }
        await run_blocking(lambda: self._client.put_item(TableName=self.table, Item=to_item(item)))

    async def list_pending_refunds(self, *, limit: int = 100) -> list[PendingRefund]:
        def query() -> list[PendingRefund]:
            out = self._client.query(
                TableName=self.table,
                KeyConditionExpression="PK = :pk",
                ExpressionAttributeValues=to_item({":pk": "PENDING_REFUNDS"}),
                ConsistentRead=True,
                Limit=limit,
            )
            return [PendingRefund(**json.loads(str(from_item(i)["doc"]))) for i in out.get("Items", [])]

        return await run_blocking(query)

    async def delete_pending_refund(self, key: str) -> None:
        item_key = to_item({"PK": "PENDING_REFUNDS", "SK": f"REFUND#{key}"})
        await run_blocking(lambda: self._client.delete_item(TableName=self.table, Key=item_key))
