"""Checkout sessions on DynamoDB (mixed into :class:`~bnpl_credit.storage.dynamodb.DynamoStore`).

Items: the session ``CHK#<id>``/``CHK`` (``version``, ``doc``; GSI1 ``MCHK#<merchantId>`` by
creation time for the merchant's list; GSI3 ``CHKDUE#<shard>`` by deadline while it has one:
the sweeper's queue, sharded like the other GSI3 queues by ``dynamodb_shards``), its token
``CHKTOKEN#<token>``/``CHKTOKEN`` and, once applied for, its application
``CHKAPP#<applicationId>``/``CHKAPP`` (one session per application). ``checkout_ops`` is also
appended to the decision, confirmation and plan-update transactions. Every save puts the whole
item, so a session written under the unsharded ``CHKDUE`` moves to its shard, or leaves the
queue, at its next save.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bnpl_common.dynamodb import TransactOp, put
from bnpl_common.idempotency import StoredResponse
from bnpl_common.timefmt import format_instant

from bnpl_credit.checkouts.model import CheckoutSession
from bnpl_credit.checkouts.ports import CheckoutChanged, CheckoutCursor, CheckoutWrite
from bnpl_credit.events.model import Event
from bnpl_credit.idempotency import NewIdempotency
from bnpl_credit.storage.documents import dumps, loads
from bnpl_credit.storage.dynamodb_shards import CHECKOUT_DEADLINES_QUEUE, shard_partition
from bnpl_credit.storage.merchant_documents import checkout_doc, checkout_from_doc

Row = dict[str, Any]


def _session(row: Row) -> CheckoutSession:
    return checkout_from_doc(loads(row["doc"]), int(row["version"]))


class DynamoCheckouts:
    """``CheckoutStore`` on the store's table."""

    table: str

    # provided by DynamoStore
    async def _get(self, pk: str, sk: str) -> Row | None:
        raise NotImplementedError

    async def _query(self, *, values: Mapping[str, Any], limit: int | None = None, **kwargs: Any) -> list[Row]:
        raise NotImplementedError

    async def _query_queue(
        self, name: str, *, limit: int | None = None, condition: str = "", values: Mapping[str, Any] | None = None
    ) -> list[Row]:
        raise NotImplementedError

    def _idem_put(self, record: NewIdempotency) -> TransactOp:
        raise NotImplementedError

    def _event_puts(self, events: Sequence[Event]) -> list[TransactOp]:
        raise NotImplementedError

    async def _transact_claiming(
        self,
        operations: Sequence[TransactOp],
        idempotency: NewIdempotency | None,
        conflict: Exception,
        *,
        failed: Mapping[str, Exception] | None = None,
    ) -> StoredResponse | None:
        raise NotImplementedError

    def checkout_ops(self, write: CheckoutWrite) -> list[TransactOp]:
        s = write.session
        item: Row = {
            "PK": f"CHK#{s.id}",
            "SK": "CHK",
            "GSI1PK": f"MCHK#{s.merchant_id}",
            "GSI1SK": f"{format_instant(s.created_at)}#{s.id}",
            "status": str(s.status),
            "version": s.version + 1,
            "doc": dumps(checkout_doc(s)),
        }
        deadline = s.deadline()
        if deadline is not None:  # sparse: only sessions with a deadline are in the sweeper's queue
            item["GSI3PK"] = shard_partition(CHECKOUT_DEADLINES_QUEUE, s.id)
            item["GSI3SK"] = f"{format_instant(deadline)}#{s.id}"
        if s.version == 0:
            ops = [
                put("checkout", self.table, item, condition="attribute_not_exists(PK)"),
                put(
                    "checkout-token",
                    self.table,
                    {"PK": f"CHKTOKEN#{s.token}", "SK": "CHKTOKEN", "checkoutId": s.id},
                    condition="attribute_not_exists(PK)",
                ),
            ]
        else:
            ops = [
                put(
                    "checkout",
                    self.table,
                    item,
                    condition="#v = :expected",
                    names={"#v": "version"},
                    values={":expected": s.version},
                )
            ]
        if s.application_id is not None:
            ops.append(
                put(
                    "checkout-application",
                    self.table,
                    {"PK": f"CHKAPP#{s.application_id}", "SK": "CHKAPP", "checkoutId": s.id},
                    condition="attribute_not_exists(PK) OR checkoutId = :c",
                    values={":c": s.id},
                )
            )
        return ops + self._event_puts(write.events)

    async def save_checkout(self, write: CheckoutWrite, *, idempotency: NewIdempotency | None) -> StoredResponse | None:
        ops = [self._idem_put(idempotency)] if idempotency is not None else []
        ops += self.checkout_ops(write)
        return await self._transact_claiming(
            ops, idempotency, CheckoutChanged("the checkout changed meanwhile; try again", field="checkoutId")
        )

    async def get_checkout(self, checkout_id: str) -> CheckoutSession | None:
        row = await self._get(f"CHK#{checkout_id}", "CHK")
        return _session(row) if row else None

    async def _by_pointer(self, pk: str, sk: str) -> CheckoutSession | None:
        pointer = await self._get(pk, sk)
        return await self.get_checkout(str(pointer["checkoutId"])) if pointer else None

    async def checkout_by_token(self, token: str) -> CheckoutSession | None:
        return await self._by_pointer(f"CHKTOKEN#{token}", "CHKTOKEN")

    async def checkout_by_application(self, application_id: str) -> CheckoutSession | None:
        return await self._by_pointer(f"CHKAPP#{application_id}", "CHKAPP")

    async def checkout_ids_of(self, application_ids: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for application_id in dict.fromkeys(application_ids):  # at most a page (100) of GetItems
            pointer = await self._get(f"CHKAPP#{application_id}", "CHKAPP")
            if pointer is not None:
                found[application_id] = str(pointer["checkoutId"])
        return found

    async def list_checkouts(
        self, merchant_id: str, *, limit: int, after: CheckoutCursor | None
    ) -> list[CheckoutSession]:
        condition = "GSI1PK = :pk"
        values = {":pk": f"MCHK#{merchant_id}"}
        if after is not None:
            condition += " AND GSI1SK < :after"
            values[":after"] = f"{format_instant(after.created_at)}#{after.checkout_id}"
        rows = await self._query(
            limit=limit, IndexName="GSI1", KeyConditionExpression=condition, values=values, ScanIndexForward=False
        )
        return [_session(r) for r in rows]

    async def due_checkouts(self, *, now: datetime, limit: int) -> list[CheckoutSession]:
        rows = await self._query_queue(
            CHECKOUT_DEADLINES_QUEUE,
            limit=limit,
            condition=" AND GSI3SK < :bound",
            # "<deadline>#<id>" < "<now>$" exactly when deadline <= now: by deadline, then id
            values={":bound": f"{format_instant(now)}$"},
        )
        # the index lags the table: read each one back
        found = [await self.get_checkout(str(loads(r["doc"])["id"])) for r in rows]
        return [s for s in found if s is not None]
