"""The DynamoDB adapter of :class:`~bnpl_credit.storage.port.CreditStore` (boto3 in worker threads).

One table (``table.json``; the design and its access patterns are in the service README):
account ``CUST#<sub>``/``ACCOUNT``; application ``CUST#<sub>``/``APP#<id>`` (GSI1 by customer and
time, GSI3 ``HELD`` by end of hold while APPROVED: the expiry sweeper's queue); decision
``CUST#<sub>``/``DECISION#<id>``; plan ``CUST#<sub>``/``PLAN#<id>`` (GSI2 by merchant order, GSI3
``OPENPLAN`` while ACTIVE) with a pointer ``PLAN#<id>``/``PLAN``; payments and refunds
``CUST#<sub>``/``REC#<planId>#<kind>#<createdAt>#<id>``; idempotency ``IDEM#<scope>#<key>``/``IDEM``
(TTL); outbox events ``EVENT#<id>``/``EVENT`` (GSI3 ``OUTBOX`` until published, then TTL); the
claim of a merchant order ``ORDER#<merchantId>#<orderReference>``/``CLAIM`` (one live approval
or plan per order; the API refuses "#" in both parts, so the key is unambiguous).

Every write is one ``TransactWriteItems``: the change, its records, its events and its
idempotency record (``attribute_not_exists(PK) OR ttl < now``). A reservation (approval)
conditions on the account item's ``version`` (or its absence) and bumps it; a plan update
on the plan's ``version``. Reads that feed a conditional write are strongly consistent
base-table reads (the account first, then applications, then plans).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from bnpl_credit.errors import ConcurrentUpdate, InvalidApplicationState
from bnpl_credit.storage.port import (
    DEFAULT_IDEMPOTENCY_TTL,
    RELEASING_STATUSES,
    Account,
    CustomerSnapshot,
    NewIdempotency,
    OrderClaim,
    PlanRecord,
    Reservation,
    ReservationConflict,
    StoredResponse,
    order_taken,
)
from bnpl_credit.timefmt import iso, parse_iso

T = TypeVar("T")

PUBLISHED_EVENT_RETENTION = timedelta(days=7)
_HELD = "HELD"  # GSI3 partition of approvals still holding credit
_CLAIM_HELD, _CLAIM_PLAN = "HELD", "PLAN"  # an order claimed by an approval / by a plan
_CLAIM_TTL_GRACE = timedelta(days=1)
_FAILED = "ConditionalCheckFailed"


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def _doc(item: dict[str, Any], name: str = "doc") -> dict[str, Any]:
    return json.loads(item[name]["S"])  # type: ignore[no-any-return]


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _cust(customer_id: str) -> str:
    return f"CUST#{customer_id}"


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


class _Cancelled(Exception):
    def __init__(self, codes: list[str | None]) -> None:
        super().__init__(codes)
        self.codes = codes

    def failed(self, index: int) -> bool:
        return index < len(self.codes) and self.codes[index] == _FAILED


class DynamoStore:
    """``CreditStore`` on one DynamoDB table."""

    def __init__(self, client: Any, *, table_name: str, idempotency_ttl: timedelta = DEFAULT_IDEMPOTENCY_TTL) -> None:
        self._client = client
        self.table = table_name
        self._ttl = idempotency_ttl

    # -- plumbing -------------------------------------------------------------------------

    async def _call(self, fn: Callable[..., T], **kwargs: Any) -> T:
        return await asyncio.to_thread(fn, **kwargs)

    def _get_sync(self, pk: str, sk: str) -> dict[str, Any] | None:
        out = self._client.get_item(TableName=self.table, Key={"PK": _s(pk), "SK": _s(sk)}, ConsistentRead=True)
        return out.get("Item")  # type: ignore[no-any-return]

    async def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        return await asyncio.to_thread(self._get_sync, pk, sk)

    def _query_sync(self, *, limit: int | None = None, **kwargs: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs["TableName"] = self.table
        while True:
            if limit is not None:
                kwargs["Limit"] = limit - len(items)
            out = self._client.query(**kwargs)
            items += out.get("Items", [])
            last = out.get("LastEvaluatedKey")
            if not last or (limit is not None and len(items) >= limit):
                return items
            kwargs["ExclusiveStartKey"] = last

    async def _query(self, *, limit: int | None = None, **kwargs: Any) -> list[dict[str, Any]]:
        return await asyncio.to_thread(lambda: self._query_sync(limit=limit, **kwargs))

    def _transact_sync(self, items: list[dict[str, Any]]) -> None:
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = exc.response.get("CancellationReasons") or []
            raise _Cancelled([r.get("Code") for r in reasons]) from exc

    async def _transact(self, items: list[dict[str, Any]]) -> None:
        await asyncio.to_thread(self._transact_sync, items)

    async def ping(self) -> bool:
        try:
            await self._call(self._client.describe_table, TableName=self.table)
            return True
        except Exception:  # readiness: any failure is "not ready"
            return False

    async def close(self) -> None:
        return None

    # -- item builders --------------------------------------------------------------------

    def _put(self, item: dict[str, Any], condition: str | None = None, **expr: Any) -> dict[str, Any]:
        put: dict[str, Any] = {"TableName": self.table, "Item": item}
        if condition:
            put["ConditionExpression"] = condition
        put.update(expr)
        return {"Put": put}

    def _idem_put(self, record: NewIdempotency) -> dict[str, Any]:
        item = {
            "PK": _s(f"IDEM#{record.scope}#{record.key}"),
            "SK": _s("IDEM"),
            "fingerprint": _s(record.fingerprint),
            "statusCode": _n(record.status_code),
            "body": _s(_dumps(record.body)),
            "createdAt": _s(iso(record.created_at)),
            "ttl": _n(_epoch(record.created_at + self._ttl)),
        }
        return self._put(
            item,
            "attribute_not_exists(PK) OR #ttl < :now",
            ExpressionAttributeNames={"#ttl": "ttl"},
            ExpressionAttributeValues={":now": _n(_epoch(record.created_at))},
        )

    def _event_puts(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            self._put(
                {
                    "PK": _s(f"EVENT#{e['id']}"),
                    "SK": _s("EVENT"),
                    "GSI3PK": _s("OUTBOX"),
                    "GSI3SK": _s(f"{e['occurredAt']}#{e['id']}"),
                    "type": _s(e["type"]),
                    "doc": _s(_dumps(e)),
                },
                "attribute_not_exists(PK)",
            )
            for e in events
        ]

    def _record_puts(self, records: list[PlanRecord]) -> list[dict[str, Any]]:
        return [
            self._put(
                {
                    "PK": _s(_cust(r.doc["customerId"])),
                    "SK": _s(f"REC#{r.doc['planId']}#{r.kind}#{r.doc['createdAt']}#{r.doc['id']}"),
                    "kind": _s(r.kind),
                    "doc": _s(_dumps(r.doc)),
                },
                "attribute_not_exists(PK)",
            )
            for r in records
        ]

    def _plan_item(self, plan: dict[str, Any], version: int) -> dict[str, Any]:
        item = {
            "PK": _s(_cust(plan["customerId"])),
            "SK": _s(f"PLAN#{plan['id']}"),
            "GSI2PK": _s(f"ORDER#{plan['merchantId']}#{plan['orderReference']}"),
            "GSI2SK": _s(f"{plan['createdAt']}#{plan['id']}"),
            "status": _s(plan["status"]),
            "version": _n(version),
            "doc": _s(_dumps(plan)),
        }
        if plan["status"] == "ACTIVE":  # sparse: only open plans are in the sweeper's queue
            item["GSI3PK"] = _s("OPENPLAN")
            item["GSI3SK"] = _s(plan["id"])
        return item

    async def _transact_claiming(
        self,
        items: list[dict[str, Any]],
        idempotency: NewIdempotency | None,
        conflict: Exception,
        *,
        failed: dict[int, Exception] | None = None,
    ) -> StoredResponse | None:
        """Write ``items`` (the idempotency put first, if any) in one transaction: None when
        written; the winner's response when the key was taken meanwhile; ``failed[i]`` when the
        condition of item ``i`` failed; else ``conflict``."""
        try:
            await self._transact(items)
        except _Cancelled as cancelled:
            if idempotency is not None and cancelled.failed(0):
                winner = await self.get_idempotent(idempotency.scope, idempotency.key, now=idempotency.created_at)
                if winner is not None:
                    return winner
            for index, error in (failed or {}).items():
                if cancelled.failed(index):
                    raise error from None
            raise conflict from None
        return None

    # -- order claims: one live approval or plan per merchant order --------------------------

    @staticmethod
    def _claim_key(merchant_id: str, order_reference: str) -> dict[str, Any]:
        return {"PK": _s(f"ORDER#{merchant_id}#{order_reference}"), "SK": _s("CLAIM")}

    def _claim_put(self, application: dict[str, Any], *, now: str, plan_id: str | None = None) -> dict[str, Any]:
        """Put the claim of the application's order (an approval's, or with ``plan_id`` its plan's)
        unless another live approval or plan holds it."""
        item: dict[str, Any] = {
            **self._claim_key(application["merchantId"], application["orderReference"]),
            "applicationId": _s(application["id"]),
            "customerId": _s(application["customerId"]),
            "state": _s(_CLAIM_PLAN if plan_id else _CLAIM_HELD),
        }
        if plan_id:
            item["planId"] = _s(plan_id)
        else:
            item["heldUntil"] = _s(application["expiresAt"])
            item["ttl"] = _n(_epoch(parse_iso(application["expiresAt"]) + _CLAIM_TTL_GRACE))
        return self._put(
            item,
            "attribute_not_exists(PK) OR applicationId = :app OR (#state = :held AND heldUntil <= :now)",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={":app": _s(application["id"]), ":held": _s(_CLAIM_HELD), ":now": _s(now)},
        )

    @staticmethod
    def _claim_of(item: dict[str, Any]) -> OrderClaim:
        return OrderClaim(
            item["applicationId"]["S"],
            item["customerId"]["S"],
            item["planId"]["S"] if "planId" in item else None,
            item["heldUntil"]["S"] if "heldUntil" in item else None,
        )

    async def _claim_release(self, doc: dict[str, Any], *, attribute: str) -> list[dict[str, Any]]:
        """A conditional Delete of the order's claim if it is still this application's
        (``attribute`` applicationId) or this plan's (``planId``); nothing if it is not."""
        key = self._claim_key(doc["merchantId"], doc["orderReference"])
        item = await self._get(key["PK"]["S"], "CLAIM")
        if item is None or item.get(attribute, {}).get("S") != doc["id"]:
            return []
        return [
            {
                "Delete": {
                    "TableName": self.table,
                    "Key": key,
                    "ConditionExpression": "#owner = :id",
                    "ExpressionAttributeNames": {"#owner": attribute},
                    "ExpressionAttributeValues": {":id": _s(doc["id"])},
                }
            }
        ]

    async def get_order_claim(self, merchant_id: str, order_reference: str, *, now: str) -> OrderClaim | None:
        item = await self._get(f"ORDER#{merchant_id}#{order_reference}", "CLAIM")
        if item is None:
            return None
        claim = self._claim_of(item)
        return claim if claim.is_live(now) else None

    # -- idempotency ----------------------------------------------------------------------

    async def get_idempotent(self, scope: str, key: str, *, now: datetime) -> StoredResponse | None:
        item = await self._get(f"IDEM#{scope}#{key}", "IDEM")
        if item is None or int(item["ttl"]["N"]) < _epoch(now):  # TTL deletion lags: expired is absent
            return None
        return StoredResponse(item["fingerprint"]["S"], int(item["statusCode"]["N"]), json.loads(item["body"]["S"]))

    # -- applications ---------------------------------------------------------------------

    async def snapshot(self, customer_id: str) -> CustomerSnapshot:
        pk = _s(_cust(customer_id))
        acc = await self._get(_cust(customer_id), "ACCOUNT")
        account = Account(int(acc["creditLimit"]["N"]), acc["currency"]["S"], int(acc["version"]["N"])) if acc else None
        apps = await self._query(
            KeyConditionExpression="PK = :pk AND begins_with(SK, :app)",
            FilterExpression="#status = :approved",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":pk": pk, ":app": _s("APP#"), ":approved": _s("APPROVED")},
            ConsistentRead=True,
        )
        plans = await self._query(
            KeyConditionExpression="PK = :pk AND begins_with(SK, :plan)",
            ExpressionAttributeValues={":pk": pk, ":plan": _s("PLAN#")},
            ConsistentRead=True,
        )
        return CustomerSnapshot(account, [_doc(i) for i in apps], [_doc(i) for i in plans])

    async def save_decision(
        self,
        *,
        application: dict[str, Any],
        record: dict[str, Any],
        idempotency: NewIdempotency,
        events: list[dict[str, Any]],
        reservation: Reservation | None,
    ) -> StoredResponse | None:
        cid = application["customerId"]
        items: list[dict[str, Any]] = [self._idem_put(idempotency)]
        if reservation is not None:
            if reservation.expected_version is None:
                if reservation.new_account is None:
                    raise ReservationConflict("the credit line changed meanwhile", field="order")
                new = reservation.new_account
                items.append(
                    self._put(
                        {
                            "PK": _s(_cust(cid)),
                            "SK": _s("ACCOUNT"),
                            "creditLimit": _n(new.credit_limit),
                            "currency": _s(new.currency),
                            "version": _n(1),
                            "applicationId": _s(application["id"]),
                            "setAt": _s(application["createdAt"]),
                        },
                        "attribute_not_exists(PK)",
                    )
                )
            else:
                items.append(
                    {
                        "Update": {
                            "TableName": self.table,
                            "Key": {"PK": _s(_cust(cid)), "SK": _s("ACCOUNT")},
                            "UpdateExpression": "SET #v = #v + :one",
                            "ConditionExpression": "#v = :expected",
                            "ExpressionAttributeNames": {"#v": "version"},
                            "ExpressionAttributeValues": {
                                ":one": _n(1),
                                ":expected": _n(reservation.expected_version),
                            },
                        }
                    }
                )
        app_item = {
            "PK": _s(_cust(cid)),
            "SK": _s(f"APP#{application['id']}"),
            "GSI1PK": _s(f"{_cust(cid)}#APPS"),
            "GSI1SK": _s(f"{application['createdAt']}#{application['id']}"),
            "status": _s(application["status"]),
            "expiresAt": _s(application["expiresAt"] or ""),
            "doc": _s(_dumps(application)),
        }
        if application["status"] == "APPROVED" and application["expiresAt"]:
            # sparse: only held approvals are in the expiry sweeper's queue, by end of hold
            app_item["GSI3PK"] = _s(_HELD)
            app_item["GSI3SK"] = _s(f"{application['expiresAt']}#{application['id']}")
        items.append(self._put(app_item, "attribute_not_exists(PK)"))
        items.append(
            self._put(
                {"PK": _s(_cust(cid)), "SK": _s(f"DECISION#{application['id']}"), "doc": _s(_dumps(record))},
                "attribute_not_exists(PK)",  # decision records are written once, never replaced
            )
        )
        failed: dict[int, Exception] = {}
        if application["status"] == "APPROVED":
            failed[len(items)] = order_taken()
            items.append(self._claim_put(application, now=application["createdAt"]))
        items += self._event_puts(events)
        return await self._transact_claiming(
            items, idempotency, ReservationConflict("the credit line changed meanwhile", field="order"), failed=failed
        )

    async def get_application(self, customer_id: str, application_id: str) -> dict[str, Any] | None:
        item = await self._get(_cust(customer_id), f"APP#{application_id}")
        return _doc(item) if item else None

    async def get_decision_record(self, customer_id: str, application_id: str) -> dict[str, Any] | None:
        item = await self._get(_cust(customer_id), f"DECISION#{application_id}")
        return _doc(item) if item else None

    async def list_applications(
        self, customer_id: str, *, limit: int, after: tuple[str, str] | None
    ) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "IndexName": "GSI1",
            "KeyConditionExpression": "GSI1PK = :pk",
            "ExpressionAttributeValues": {":pk": _s(f"{_cust(customer_id)}#APPS")},
            "ScanIndexForward": False,
        }
        if after is not None:
            kwargs["KeyConditionExpression"] = "GSI1PK = :pk AND GSI1SK < :after"
            kwargs["ExpressionAttributeValues"][":after"] = _s(f"{after[0]}#{after[1]}")
        return [_doc(i) for i in await self._query(limit=limit, **kwargs)]

    async def transition_application(
        self,
        customer_id: str,
        application_id: str,
        *,
        expect_status: str,
        not_expired_at: str,
        update: dict[str, Any],
        events: list[dict[str, Any]],
    ) -> dict[str, Any] | None:
        current = await self.get_application(customer_id, application_id)
        if current is None:
            return None
        doc = {**current, **update}
        items = [self._app_update(customer_id, doc, expect_status, not_expired_at), *self._event_puts(events)]
        if doc["status"] in RELEASING_STATUSES:
            items += await self._claim_release(doc, attribute="applicationId")
        try:
            await self._transact(items)
        except _Cancelled:
            return None
        return doc

    def _app_update(
        self, customer_id: str, doc: dict[str, Any], expect_status: str, now: str, *, expired: bool = False
    ) -> Any:
        """Update an application that is ``expect_status`` and unexpired at ``now`` (or, with
        ``expired``, whose hold ended by ``now``); leaving APPROVED takes it off the expiry queue."""
        update = "SET #status = :new, doc = :doc"
        if doc["status"] != "APPROVED":
            update += " REMOVE GSI3PK, GSI3SK"
        return {
            "Update": {
                "TableName": self.table,
                "Key": {"PK": _s(_cust(customer_id)), "SK": _s(f"APP#{doc['id']}")},
                "UpdateExpression": update,
                "ConditionExpression": "#status = :expected AND expiresAt " + ("<= :now" if expired else "> :now"),
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":new": _s(doc["status"]),
                    ":doc": _s(_dumps(doc)),
                    ":expected": _s(expect_status),
                    ":now": _s(now),
                },
            }
        }

    async def list_expired_approvals(self, *, now: str, limit: int) -> list[dict[str, Any]]:
        items = await self._query(
            limit=limit,
            IndexName="GSI3",
            KeyConditionExpression="GSI3PK = :pk AND GSI3SK < :bound",
            # "<expiresAt>#<id>" < "<now>$" exactly when expiresAt <= now ("$" sorts right after "#")
            ExpressionAttributeValues={":pk": _s(_HELD), ":bound": _s(f"{now}$")},
        )
        return [_doc(i) for i in items]

    async def expire_application(
        self, customer_id: str, application_id: str, *, now: str, update: dict[str, Any], events: list[dict[str, Any]]
    ) -> dict[str, Any] | None:
        current = await self.get_application(customer_id, application_id)  # the GSI may lag: read the item
        if current is None:
            return None
        doc = {**current, **update}
        items = [self._app_update(customer_id, doc, "APPROVED", now, expired=True), *self._event_puts(events)]
        items += await self._claim_release(doc, attribute="applicationId")  # unless taken over meanwhile
        try:
            await self._transact(items)
        except _Cancelled:
            return None
        return doc

    # -- plans ----------------------------------------------------------------------------

    async def confirm(
        self,
        *,
        plan: dict[str, Any],
        application_update: dict[str, Any],
        not_expired_at: str,
        idempotency: NewIdempotency,
        records: list[PlanRecord],
        events: list[dict[str, Any]],
    ) -> StoredResponse | None:
        cid = plan["customerId"]
        current = await self.get_application(cid, plan["applicationId"])
        if current is None:
            raise InvalidApplicationState("the application can no longer be confirmed", field="applicationId")
        doc = {**current, **application_update}
        items = [
            self._idem_put(idempotency),
            self._app_update(cid, doc, "APPROVED", not_expired_at),
            self._put(self._plan_item(plan, 1), "attribute_not_exists(PK)"),
            self._put(
                {"PK": _s(f"PLAN#{plan['id']}"), "SK": _s("PLAN"), "customerId": _s(cid)},
                "attribute_not_exists(PK)",
            ),
            self._claim_put(doc, now=not_expired_at, plan_id=plan["id"]),
            *self._record_puts(records),
            *self._event_puts(events),
        ]
        return await self._transact_claiming(
            items,
            idempotency,
            InvalidApplicationState("the application can no longer be confirmed", field="applicationId"),
            failed={4: order_taken()},
        )

    async def get_plan(self, customer_id: str, plan_id: str) -> tuple[dict[str, Any], int] | None:
        item = await self._get(_cust(customer_id), f"PLAN#{plan_id}")
        return (_doc(item), int(item["version"]["N"])) if item else None

    async def find_plan(self, plan_id: str) -> tuple[dict[str, Any], int] | None:
        pointer = await self._get(f"PLAN#{plan_id}", "PLAN")
        if pointer is None:
            return None
        return await self.get_plan(pointer["customerId"]["S"], plan_id)

    async def find_plans_by_order(self, merchant_id: str, order_reference: str) -> list[dict[str, Any]]:
        items = await self._query(
            IndexName="GSI2",
            KeyConditionExpression="GSI2PK = :pk",
            ExpressionAttributeValues={":pk": _s(f"ORDER#{merchant_id}#{order_reference}")},
            ScanIndexForward=False,
        )
        return [_doc(i) for i in items]

    async def list_plans(self, customer_id: str) -> list[dict[str, Any]]:
        items = await self._query(
            KeyConditionExpression="PK = :pk AND begins_with(SK, :plan)",
            ExpressionAttributeValues={":pk": _s(_cust(customer_id)), ":plan": _s("PLAN#")},
            ConsistentRead=True,
        )
        docs = [_doc(i) for i in items]
        return sorted(docs, key=lambda d: (d["createdAt"], d["id"]), reverse=True)

    async def list_open_plans(self) -> list[tuple[dict[str, Any], int]]:
        # GSI3 projects the whole plan item: no GetItem per plan (its reads are eventually
        # consistent; update_plan's version condition catches a stale one)
        items = await self._query(
            IndexName="GSI3",
            KeyConditionExpression="GSI3PK = :pk",
            ExpressionAttributeValues={":pk": _s("OPENPLAN")},
        )
        return [(_doc(i), int(i["version"]["N"])) for i in items]

    async def update_plan(
        self,
        *,
        plan: dict[str, Any],
        expected_version: int,
        records: list[PlanRecord],
        idempotency: NewIdempotency | None,
        events: list[dict[str, Any]],
    ) -> StoredResponse | None:
        items = [self._idem_put(idempotency)] if idempotency is not None else []
        items.append(
            self._put(
                self._plan_item(plan, expected_version + 1),
                "#v = :expected",
                ExpressionAttributeNames={"#v": "version"},
                ExpressionAttributeValues={":expected": _n(expected_version)},
            )
        )
        items += self._record_puts(records)
        items += self._event_puts(events)
        if plan["status"] in RELEASING_STATUSES:  # refunded in full: the order may be financed again
            items += await self._claim_release(plan, attribute="planId")
        return await self._transact_claiming(
            items, idempotency, ConcurrentUpdate("the plan changed meanwhile; try again", field="planId")
        )

    async def list_records(self, customer_id: str, plan_id: str, kind: str) -> list[dict[str, Any]]:
        items = await self._query(
            KeyConditionExpression="PK = :pk AND begins_with(SK, :rec)",
            ExpressionAttributeValues={":pk": _s(_cust(customer_id)), ":rec": _s(f"REC#{plan_id}#{kind}#")},
            ConsistentRead=True,
        )
        return [_doc(i) for i in items]

    # -- outbox ---------------------------------------------------------------------------

    async def pending_events(self, *, limit: int) -> list[dict[str, Any]]:
        items = await self._query(
            limit=limit,
            IndexName="GSI3",
            KeyConditionExpression="GSI3PK = :pk",
            ExpressionAttributeValues={":pk": _s("OUTBOX")},
        )
        return [_doc(i) for i in items]

    async def mark_published(self, event_ids: list[str], *, published_at: datetime) -> None:
        expires = _n(_epoch(published_at + PUBLISHED_EVENT_RETENTION))
        for event_id in event_ids:
            try:
                await self._call(
                    self._client.update_item,
                    TableName=self.table,
                    Key={"PK": _s(f"EVENT#{event_id}"), "SK": _s("EVENT")},
                    UpdateExpression="REMOVE GSI3PK, GSI3SK SET publishedAt = :at, #ttl = :ttl",
                    ConditionExpression="attribute_exists(PK)",
                    ExpressionAttributeNames={"#ttl": "ttl"},
                    ExpressionAttributeValues={":at": _s(iso(published_at)), ":ttl": expires},
                )
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise

    async def purge_expired(self, *, now: datetime) -> int:
        return 0  # DynamoDB's TTL deletes expired idempotency records; reads ignore them meanwhile
