"""Webhook deliveries in the DynamoDB credit table (mixed into :class:`DynamoStore`).

Item ``WHD#<id>``/``WHD`` with ``merchantId``, ``version`` and the document; its indexes:
GSI1 ``MERCHANT#<merchantId>#WHD`` by creation (the merchant's listing, newest first); while
PENDING, GSI3 ``WHDUE#<merchantId>`` by next attempt (each merchant its own due queue, so one
merchant's backlog never hides another's) and GSI2 ``WHQ#<merchantId>#<checkoutId>`` by
sequence (the checkout's order). Every save is conditioned on ``version``. The index reads are
eventually consistent: a delivery that just ended may still look pending for a moment, which
only delays the next one of its checkout; the claim and the save are checked on the base item.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from bnpl_common.aio import run_blocking
from bnpl_common.dynamodb import TransactionCancelled, TransactOp, error_code, from_item, put, to_item, transact_write
from bnpl_common.idempotency import StoredResponse
from bnpl_common.timefmt import format_instant

from bnpl_credit.idempotency import NewIdempotency
from bnpl_credit.storage.documents import dumps, loads
from bnpl_credit.storage.webhook_documents import delivery_doc, delivery_from_doc
from bnpl_credit.webhooks.model import DeliveryStatus, WebhookDelivery
from bnpl_credit.webhooks.ports import DeliveryCursor

Row = dict[str, Any]


def _item(delivery: WebhookDelivery, version: int) -> Row:
    item: Row = {
        "PK": f"WHD#{delivery.id}",
        "SK": "WHD",
        "merchantId": delivery.merchant_id,
        "GSI1PK": f"MERCHANT#{delivery.merchant_id}#WHD",
        "GSI1SK": f"{format_instant(delivery.created_at)}#{delivery.id}",
        "status": str(delivery.status),
        "version": version,
        "doc": dumps(delivery_doc(delivery)),
    }
    if delivery.status is DeliveryStatus.PENDING and delivery.next_attempt_at is not None:  # sparse queues
        item["GSI3PK"] = f"WHDUE#{delivery.merchant_id}"
        item["GSI3SK"] = f"{format_instant(delivery.next_attempt_at)}#{delivery.id}"
        item["GSI2PK"] = f"WHQ#{delivery.merchant_id}#{delivery.ordering_key}"
        item["GSI2SK"] = delivery.sequence
    return item


def _of(row: Row) -> WebhookDelivery:
    return delivery_from_doc(loads(row["doc"]), int(row["version"]))


class DynamoWebhookDeliveries:
    """``WebhookDeliveryStore`` on the credit table."""

    # what the mixin uses of DynamoStore
    _client: Any
    table: str
    _idem_put: Callable[[NewIdempotency], TransactOp]
    get_idempotent: Callable[..., Awaitable[StoredResponse | None]]

    def _whd_put_new_sync(self, delivery: WebhookDelivery) -> int:
        try:
            self._client.put_item(
                TableName=self.table,
                Item=to_item(_item(delivery, delivery.version)),
                ConditionExpression="attribute_not_exists(PK)",
            )
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return 0  # fanned out before
            raise
        return 1

    async def add_deliveries(self, deliveries: Sequence[WebhookDelivery]) -> int:
        added = 0
        for delivery in deliveries:
            added += await run_blocking(self._whd_put_new_sync, delivery)
        return added

    def _whd_query_sync(self, kwargs: dict[str, Any]) -> list[Row]:
        out = self._client.query(TableName=self.table, **kwargs)
        return [from_item(i) for i in out.get("Items", [])]

    async def _whd_query(self, index: str, condition: str, values: Row, *, limit: int, forward: bool) -> list[Row]:
        kwargs = {
            "IndexName": index,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": to_item(values),
            "ScanIndexForward": forward,
            "Limit": limit,
        }
        return await run_blocking(self._whd_query_sync, kwargs)

    def _whd_get_sync(self, delivery_id: str) -> Row | None:
        out = self._client.get_item(
            TableName=self.table, Key=to_item({"PK": f"WHD#{delivery_id}", "SK": "WHD"}), ConsistentRead=True
        )
        item = out.get("Item")
        return from_item(item) if item else None

    async def get_delivery(self, merchant_id: str, delivery_id: str) -> WebhookDelivery | None:
        row = await run_blocking(self._whd_get_sync, delivery_id)
        if row is None or row.get("merchantId") != merchant_id:
            return None
        return _of(row)

    async def list_deliveries(
        self, merchant_id: str, *, limit: int, after: DeliveryCursor | None
    ) -> list[WebhookDelivery]:
        condition, values = "GSI1PK = :pk", {":pk": f"MERCHANT#{merchant_id}#WHD"}
        if after is not None:
            condition += " AND GSI1SK < :after"
            values[":after"] = f"{format_instant(after.created_at)}#{after.delivery_id}"
        rows = await self._whd_query("GSI1", condition, values, limit=limit, forward=False)
        return [_of(r) for r in rows]

    async def due_deliveries(self, merchant_id: str, *, now: datetime, limit: int) -> list[WebhookDelivery]:
        rows = await self._whd_query(
            "GSI3",
            "GSI3PK = :pk AND GSI3SK < :bound",
            # "<nextAttemptAt>#<id>" < "<now>$" exactly when nextAttemptAt <= now ("$" sorts right after "#")
            {":pk": f"WHDUE#{merchant_id}", ":bound": f"{format_instant(now)}$"},
            limit=limit,
            forward=True,
        )
        return [_of(r) for r in rows]

    async def first_pending(self, merchant_id: str, ordering_key: str) -> WebhookDelivery | None:
        rows = await self._whd_query(
            "GSI2", "GSI2PK = :pk", {":pk": f"WHQ#{merchant_id}#{ordering_key}"}, limit=1, forward=True
        )
        return _of(rows[0]) if rows else None

    async def save_delivery(
        self, delivery: WebhookDelivery, *, idempotency: NewIdempotency | None = None
    ) -> StoredResponse | bool:
        operations = [self._idem_put(idempotency)] if idempotency is not None else []
        operations.append(
            put(
                "delivery",
                self.table,
                _item(delivery, delivery.version + 1),
                condition="#v = :expected AND merchantId = :merchant",
                names={"#v": "version"},
                values={":expected": delivery.version, ":merchant": delivery.merchant_id},
            )
        )
        try:
            await run_blocking(transact_write, self._client, operations)
        except TransactionCancelled as cancelled:
            if idempotency is not None and cancelled.condition_failed("idempotency"):
                winner = await self.get_idempotent(idempotency.scope, idempotency.key, now=idempotency.created_at)
                if winner is not None:
                    return winner
            return False
        return True
