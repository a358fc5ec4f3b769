"""The DynamoDB adapter of :class:`~bnpl_credit.storage.port.CreditStore` (boto3 in worker threads).

One table (``table.json``; the design and its access patterns are in the service README):
account ``CUST#<sub>``/``ACCOUNT``; application ``CUST#<sub>``/``APP#<id>`` (GSI1 by customer and
time, GSI3 ``HELD#<shard>`` by end of hold while APPROVED: the expiry sweeper's queue) with, for an
approval, a hold marker ``CUST#<sub>``/``HOLD#<expiresAt>#<id>`` (``dynamodb_holds``); decision
``CUST#<sub>``/``DECISION#<id>``; plan ``CUST#<sub>``/``PLAN#<id>`` (GSI2 by merchant order, GSI3
``OPENPLAN#<shard>`` while ACTIVE) with a pointer ``PLAN#<id>``/``PLAN``; payments and refunds
``CUST#<sub>``/``REC#<planId>#<kind>#<createdAt>#<id>``; idempotency ``IDEM#<scope>#<key>``/``IDEM``
(TTL); outbox events ``EVENT#<id>``/``EVENT`` (GSI3 ``OUTBOX#<shard>`` until published, then
TTL); these three GSI3 queues and the checkout sessions' ``CHKDUE`` are sharded
over 16 keys (``dynamodb_shards``); the
claim of a merchant order ``ORDER#<merchantId>#<orderReference>``/``CLAIM`` (one live approval
or plan per order; the API refuses "#" in both parts, so the key is unambiguous).

Every write is one ``TransactWriteItems`` of named operations (``bnpl_common.dynamodb``): the
change, its records, its events and its idempotency record (``attribute_not_exists(PK) OR ttl <
now``); a cancelled one is read by the names of the operations whose condition failed. A reservation (approval)
conditions on the account item's ``version`` (or its absence) and bumps it; a plan update
on the plan's ``version``. Reads that feed a conditional write are strongly consistent
base-table reads (the account first, then applications, then plans).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bnpl_common.aio import run_blocking
from bnpl_common.dynamodb import (
    TransactionCancelled,
    TransactOp,
    delete,
    epoch_seconds,
    error_code,
    from_item,
    put,
    to_item,
    transact_write,
    update,
)
from bnpl_common.idempotency import StoredResponse
from bnpl_common.timefmt import format_instant, parse_instant

from bnpl_credit.applications.model import Application, ApplicationStatus, DecisionRecord
from bnpl_credit.applications.ports import OrderClaim, PageCursor, Reservation, ReservationConflict, order_taken
from bnpl_credit.checkouts.ports import CheckoutWrite
from bnpl_credit.credit_line.model import Account
from bnpl_credit.credit_line.ports import CustomerSnapshot
from bnpl_credit.errors import ConcurrentUpdate, InvalidApplicationState
from bnpl_credit.events.model import Event
from bnpl_credit.idempotency import DEFAULT_IDEMPOTENCY_TTL, NewIdempotency
from bnpl_credit.plans.ledger import Plan
from bnpl_credit.plans.model import Payment, PlanStatus, Refund
from bnpl_credit.reviews.model import ReviewCase
from bnpl_credit.storage.documents import (
    Doc,
    application_doc,
    application_from_doc,
    decision_record_doc,
    decision_record_from_doc,
    dumps,
    loads,
    payment_doc,
    payment_from_doc,
    plan_doc,
    plan_from_doc,
    refund_doc,
    refund_from_doc,
)
from bnpl_credit.storage.dynamodb_checkouts import DynamoCheckouts
from bnpl_credit.storage.dynamodb_holds import (
    HELD_STATUSES,
    MARKERS_SINCE,
    hold_marker,
    holds_credit,
    live_range,
    markers_trusted,
)
from bnpl_credit.storage.dynamodb_merchants import DynamoMerchants
from bnpl_credit.storage.dynamodb_payments import DynamoPayments
from bnpl_credit.storage.dynamodb_persons import DynamoPersons
from bnpl_credit.storage.dynamodb_reviews import DynamoReviews
from bnpl_credit.storage.dynamodb_shards import (
    HELD_QUEUE,
    OPEN_PLANS_QUEUE,
    OUTBOX_QUEUE,
    merge_sorted,
    shard_page,
    shard_partition,
    shard_partitions,
)
from bnpl_credit.storage.dynamodb_webhooks import DynamoWebhookDeliveries

Row = dict[str, Any]  # an item as plain values (``bnpl_common.dynamodb.from_item``)

PUBLISHED_EVENT_RETENTION = timedelta(days=7)
_CLAIM_HELD, _CLAIM_PLAN = "HELD", "PLAN"  # an order claimed by an approval / by a plan
_CLAIM_TTL_GRACE = timedelta(days=1)


def _cust(customer_id: str) -> str:
    return f"CUST#{customer_id}"


def _doc(row: Row, name: str = "doc") -> Doc:
    return loads(row[name])


def _at(moment: datetime | None) -> datetime:
    if moment is None:
        raise ValueError("a transition needs its time")
    return moment


class DynamoStore(
    DynamoMerchants, DynamoCheckouts, DynamoWebhookDeliveries, DynamoPersons, DynamoReviews, DynamoPayments
):
    """``CreditStore`` on one DynamoDB table."""

    def __init__(self, client: Any, *, table_name: str, idempotency_ttl: timedelta = DEFAULT_IDEMPOTENCY_TTL) -> None:
        self._client = client
        self.table = table_name
        self._ttl = idempotency_ttl

    # -- plumbing -------------------------------------------------------------------------

    def _get_sync(self, pk: str, sk: str) -> Row | None:
        out = self._client.get_item(TableName=self.table, Key=to_item({"PK": pk, "SK": sk}), ConsistentRead=True)
        item = out.get("Item")
        return from_item(item) if item else None

    async def _get(self, pk: str, sk: str) -> Row | None:
        return await run_blocking(self._get_sync, pk, sk)

    def _query_sync(self, limit: int | None, values: Mapping[str, Any], kwargs: dict[str, Any]) -> list[Row]:
        rows: list[Row] = []
        kwargs = {**kwargs, "TableName": self.table, "ExpressionAttributeValues": to_item(values)}
        while True:
            if limit is not None:
                kwargs["Limit"] = limit - len(rows)
            out = self._client.query(**kwargs)
            rows += [from_item(i) for i in out.get("Items", [])]
            last = out.get("LastEvaluatedKey")
            if not last or (limit is not None and len(rows) >= limit):
                return rows
            kwargs["ExclusiveStartKey"] = last

    async def _query(self, *, values: Mapping[str, Any], limit: int | None = None, **kwargs: Any) -> list[Row]:
        """Every item of a query (``values``: its expression values, plain), up to ``limit``."""
        return await run_blocking(self._query_sync, limit, values, kwargs)

    def _partition_rows(
        self, partition: str, page: int | None, condition: str, values: Mapping[str, Any]
    ) -> Iterator[Row]:
        """The items of one GSI3 partition in ``GSI3SK`` order, queried ``page`` at a time as
        they are taken."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "GSI3",
            "KeyConditionExpression": f"GSI3PK = :pk{condition}",
            "ExpressionAttributeValues": to_item({**values, ":pk": partition}),
        }
        if page is not None:
            kwargs["Limit"] = page
        while True:
            out = self._client.query(**kwargs)
            yield from (from_item(i) for i in out.get("Items", []))
            if "LastEvaluatedKey" not in out:
                return
            kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]

    def _queue_sync(self, name: str, limit: int | None, condition: str, values: Mapping[str, Any]) -> list[Row]:
        page = None if limit is None else shard_page(limit)
        partitions = (self._partition_rows(p, page, condition, values) for p in shard_partitions(name))
        return merge_sorted(partitions, limit=limit)

    async def _query_queue(
        self, name: str, *, limit: int | None = None, condition: str = "", values: Mapping[str, Any] | None = None
    ) -> list[Row]:
        """The items of the sharded GSI3 queue ``name`` (``dynamodb_shards``): every shard and the
        unsharded key, merged in ``GSI3SK`` order, up to ``limit``; ``condition`` (such as
        `` AND GSI3SK < :bound``) and ``values`` bound them."""
        return await run_blocking(self._queue_sync, name, limit, condition, values or {})

    async def _transact(self, operations: Sequence[TransactOp]) -> None:
        await run_blocking(transact_write, self._client, operations)

    async def ping(self) -> bool:
        try:
            await run_blocking(self._client.describe_table, TableName=self.table)
            return True
        except Exception:  # readiness: any failure is "not ready"
            return False

    async def close(self) -> None:
        return None

    # -- operation builders ---------------------------------------------------------------

    def _idem_put(self, record: NewIdempotency) -> TransactOp:
        item = {
            "PK": f"IDEM#{record.scope}#{record.key}",
            "SK": "IDEM",
            "fingerprint": record.fingerprint,
            "statusCode": record.status_code,
            "body": dumps(record.body),
            "createdAt": format_instant(record.created_at),
            "ttl": epoch_seconds(record.created_at + self._ttl),
        }
        return put(
            "idempotency",
            self.table,
            item,
            condition="attribute_not_exists(PK) OR #ttl < :now",
            names={"#ttl": "ttl"},
            values={":now": epoch_seconds(record.created_at)},
        )

    def _event_puts(self, events: Sequence[Event]) -> list[TransactOp]:
        puts = []
        for event in events:
            message = event.to_message()
            item = {
                "PK": f"EVENT#{event.id}",
                "SK": "EVENT",
                "GSI3PK": shard_partition(OUTBOX_QUEUE, event.id),
                "GSI3SK": f"{message['occurredAt']}#{event.id}",
                "type": message["type"],
                "doc": dumps(message),
            }
            puts.append(put(f"event:{event.id}", self.table, item, condition="attribute_not_exists(PK)"))
        return puts

    def _record_puts(self, payments: Sequence[Payment], refunds: Sequence[Refund]) -> list[TransactOp]:
        rows = [("payment", p.customer_id, p.plan_id, p.created_at, p.id, payment_doc(p)) for p in payments]
        rows += [("refund", r.customer_id, r.plan_id, r.created_at, r.id, refund_doc(r)) for r in refunds]
        return [
            put(
                f"{kind}:{record_id}",
                self.table,
                {
                    "PK": _cust(customer_id),
                    "SK": f"REC#{plan_id}#{kind}#{format_instant(created_at)}#{record_id}",
                    "kind": kind,
                    "doc": dumps(doc),
                },
                condition="attribute_not_exists(PK)",
            )
            for kind, customer_id, plan_id, created_at, record_id, doc in rows
        ]

    @staticmethod
    def _plan_item(plan: Plan, version: int) -> Row:
        t = plan.terms
        item: Row = {
            "PK": _cust(t.customer_id),
            "SK": f"PLAN#{t.id}",
            "GSI2PK": f"ORDER#{t.merchant_id}#{t.order_reference}",
            "GSI2SK": f"{format_instant(t.created_at)}#{t.id}",
            "status": str(plan.status),
            "version": version,
            "doc": dumps(plan_doc(plan)),
        }
        if plan.status is PlanStatus.ACTIVE:  # sparse: only open plans are in the sweeper's queue
            item["GSI3PK"] = shard_partition(OPEN_PLANS_QUEUE, t.id)
            item["GSI3SK"] = t.id
        return item

    @staticmethod
    def _plan_of(row: Row) -> Plan:
        return plan_from_doc(_doc(row), int(row["version"]))

    async def _transact_claiming(
        self,
        operations: Sequence[TransactOp],
        idempotency: NewIdempotency | None,
        conflict: Exception,
        *,
        failed: Mapping[str, Exception] | None = None,
    ) -> StoredResponse | None:
        """Write ``operations`` in one transaction: None when written; the winner's response
        when the key was taken meanwhile; ``failed[name]`` when the condition of the operation
        named ``name`` failed; else ``conflict``."""
        try:
            await self._transact(operations)
        except TransactionCancelled as cancelled:
            if idempotency is not None and cancelled.condition_failed("idempotency"):
                winner = await self.get_idempotent(idempotency.scope, idempotency.key, now=idempotency.created_at)
                if winner is not None:
                    return winner
            for name, error in (failed or {}).items():
                if cancelled.condition_failed(name):
                    raise error from None
            raise conflict from None
        return None

    # -- order claims: one live approval or plan per merchant order --------------------------

    @staticmethod
    def _claim_key(merchant_id: str, order_reference: str) -> Row:
        return {"PK": f"ORDER#{merchant_id}#{order_reference}", "SK": "CLAIM"}

    def _claim_put(self, application: Application, *, now: datetime, plan_id: str | None = None) -> TransactOp:
        """Put the claim of the application's order (an approval's, or with ``plan_id`` its plan's)
        unless another live approval or plan holds it."""
        item: Row = {
            **self._claim_key(application.order.merchant_id, application.order.order_reference),
            "applicationId": application.id,
            "customerId": application.customer_id,
            "state": _CLAIM_PLAN if plan_id else _CLAIM_HELD,
        }
        if plan_id:
            item["planId"] = plan_id
        else:
            held_until = _at(application.expires_at)
            item["heldUntil"] = format_instant(held_until)
            item["ttl"] = epoch_seconds(held_until + _CLAIM_TTL_GRACE)
        return put(
            "claim",
            self.table,
            item,
            condition="attribute_not_exists(PK) OR applicationId = :app OR (#state = :held AND heldUntil <= :now)",
            names={"#state": "state"},
            values={":app": application.id, ":held": _CLAIM_HELD, ":now": format_instant(now)},
        )

    @staticmethod
    def _claim_of(row: Row) -> OrderClaim:
        held_until = row.get("heldUntil")
        return OrderClaim(
            row["applicationId"],
            row["customerId"],
            row.get("planId"),
            parse_instant(held_until) if held_until else None,
        )

    async def _claim_release(
        self, merchant_id: str, order_reference: str, *, attribute: str, owner: str
    ) -> list[TransactOp]:
        """A conditional Delete of the order's claim if it is still this application's
        (``attribute`` applicationId) or this plan's (``planId``); nothing if it is not."""
        key = self._claim_key(merchant_id, order_reference)
        row = await self._get(key["PK"], key["SK"])
        if row is None or row.get(attribute) != owner:
            return []
        release = delete(
            "release", self.table, key, condition="#owner = :id", names={"#owner": attribute}, values={":id": owner}
        )
        return [release]

    async def get_order_claim(self, merchant_id: str, order_reference: str, *, now: datetime) -> OrderClaim | None:
        row = await self._get(f"ORDER#{merchant_id}#{order_reference}", "CLAIM")
        if row is None:
            return None
        claim = self._claim_of(row)
        return claim if claim.is_live(now) else None

    # -- idempotency ----------------------------------------------------------------------

    async def get_idempotent(self, scope: str, key: str, *, now: datetime) -> StoredResponse | None:
        row = await self._get(f"IDEM#{scope}#{key}", "IDEM")
        if row is None or int(row["ttl"]) < epoch_seconds(now):  # TTL deletion lags: expired is absent
            return None
        return StoredResponse(row["fingerprint"], int(row["statusCode"]), loads(row["body"]))

    # -- applications ---------------------------------------------------------------------

    async def snapshot(self, customer_id: str, *, now: datetime | None = None) -> CustomerSnapshot:
        pk = _cust(customer_id)
        acc = await self._get(pk, "ACCOUNT")
        account = Account(int(acc["creditLimit"]), acc["currency"], int(acc["version"])) if acc else None
        if now is not None and markers_trusted(acc, now):
            # the live approvals by their hold markers (dynamodb_holds): bounded by recent approvals
            apps = await run_blocking(self._held_sync, pk, now)
        else:
            rows = await self._query(
                KeyConditionExpression="PK = :pk AND begins_with(SK, :app)",
                FilterExpression="#status IN (:approved, :referred)",  # a referral holds while under review
                ExpressionAttributeNames={"#status": "status"},
                values={":pk": pk, ":app": "APP#", ":approved": "APPROVED", ":referred": "REFERRED"},
                ConsistentRead=True,
            )
            apps = tuple(application_from_doc(_doc(r)) for r in rows)
        plans = await self._query(
            KeyConditionExpression="PK = :pk AND begins_with(SK, :plan)",
            values={":pk": pk, ":plan": "PLAN#"},
            ConsistentRead=True,
        )
        return CustomerSnapshot(account, apps, tuple(self._plan_of(r) for r in plans))

    def _held_sync(self, pk: str, now: datetime) -> tuple[Application, ...]:
        low, high = live_range(now)
        markers = self._query_sync(
            None,
            {":pk": pk, ":low": low, ":high": high},
            {"KeyConditionExpression": "PK = :pk AND SK BETWEEN :low AND :high", "ConsistentRead": True},
        )
        apps = []
        for marker in markers:
            row = self._get_sync(pk, f"APP#{marker['applicationId']}")
            if row is not None and row["status"] in HELD_STATUSES:
                apps.append(application_from_doc(_doc(row)))
        return tuple(apps)

    def _account_write(self, application: Application, reservation: Reservation) -> TransactOp:
        # a person's line is its first account's
        key = {"PK": _cust(reservation.holder or application.customer_id), "SK": "ACCOUNT"}
        if reservation.expected_version is None:
            if reservation.new_account is None:
                raise ReservationConflict("the credit line changed meanwhile", field="order")
            new = reservation.new_account
            item = {
                **key,
                "creditLimit": new.credit_limit,
                "currency": new.currency,
                "version": 1,
                "applicationId": application.id,
                "setAt": format_instant(application.created_at),
                MARKERS_SINCE: format_instant(application.created_at),
            }
            return put("account", self.table, item, condition="attribute_not_exists(PK)")
        return update(
            "account",
            self.table,
            key,
            expression="SET #v = #v + :one, #since = if_not_exists(#since, :now)",
            condition="#v = :expected",
            names={"#v": "version", "#since": MARKERS_SINCE},
            values={
                ":one": 1,
                ":expected": reservation.expected_version,
                ":now": format_instant(application.created_at),
            },
        )

    async def save_decision(
        self,
        *,
        application: Application,
        record: DecisionRecord,
        idempotency: NewIdempotency,
        events: Sequence[Event],
        reservation: Reservation | None,
        checkout: CheckoutWrite | None = None,
        review: ReviewCase | None = None,
    ) -> StoredResponse | None:
        cid = application.customer_id
        created = format_instant(application.created_at)
        operations: list[TransactOp] = [self._idem_put(idempotency)]
        if reservation is not None:
            operations.append(self._account_write(application, reservation))
        app_item: Row = {
            "PK": _cust(cid),
            "SK": f"APP#{application.id}",
            "GSI1PK": f"{_cust(cid)}#APPS",
            "GSI1SK": f"{created}#{application.id}",
            "status": str(application.status),
            "expiresAt": format_instant(application.expires_at) if application.expires_at else "",
            "doc": dumps(application_doc(application)),
        }
        if application.status is ApplicationStatus.APPROVED and application.expires_at:
            # sparse: only held approvals are in the expiry sweeper's queue, by end of hold
            app_item["GSI3PK"] = shard_partition(HELD_QUEUE, application.id)
            app_item["GSI3SK"] = f"{format_instant(application.expires_at)}#{application.id}"
        operations.append(put("application", self.table, app_item, condition="attribute_not_exists(PK)"))
        if holds_credit(application):
            operations.append(hold_marker(self.table, application))
        record_item = {"PK": _cust(cid), "SK": f"DECISION#{application.id}", "doc": dumps(decision_record_doc(record))}
        # decision records are written once, never replaced
        operations.append(put("record", self.table, record_item, condition="attribute_not_exists(PK)"))
        if application.status is ApplicationStatus.APPROVED:
            operations.append(self._claim_put(application, now=application.created_at))
        operations.append(self.decision_tally_put(application))  # the dashboard's count of the day
        if review is not None:  # a REFERRED decision opens its review case
            operations += self._case_open_ops(review)
        operations += self._event_puts(events)
        if checkout is not None:
            operations += self.checkout_ops(checkout)
        return await self._transact_claiming(
            operations,
            idempotency,
            ReservationConflict("the credit line changed meanwhile", field="order"),
            failed={"claim": order_taken()},
        )

    async def get_application(self, customer_id: str, application_id: str) -> Application | None:
        row = await self._get(_cust(customer_id), f"APP#{application_id}")
        return application_from_doc(_doc(row)) if row else None

    async def get_decision_record(self, customer_id: str, application_id: str) -> DecisionRecord | None:
        row = await self._get(_cust(customer_id), f"DECISION#{application_id}")
        return decision_record_from_doc(_doc(row)) if row else None

    async def list_applications(self, customer_id: str, *, limit: int, after: PageCursor | None) -> list[Application]:
        condition = "GSI1PK = :pk"
        values = {":pk": f"{_cust(customer_id)}#APPS"}
        if after is not None:
            condition += " AND GSI1SK < :after"
            values[":after"] = f"{format_instant(after.created_at)}#{after.application_id}"
        rows = await self._query(
            limit=limit, IndexName="GSI1", KeyConditionExpression=condition, values=values, ScanIndexForward=False
        )
        return [application_from_doc(_doc(r)) for r in rows]

    async def newest_decline(self, customer_id: str, *, since: datetime) -> Application | None:
        # the customer's applications of the window, newest first, on GSI1 (as the listing reads
        # them), filtered by status in DynamoDB: the read units still count the window's items,
        # but only the decline found crosses the wire and is decoded ("#~" sorts after every id:
        # strictly after ``since``). DECLINED status is a DECLINED decision (a decline is
        # final; a review that declines sets both).
        def run() -> Application | None:
            kwargs: dict[str, Any] = {
                "TableName": self.table,
                "IndexName": "GSI1",
                "KeyConditionExpression": "GSI1PK = :pk AND GSI1SK > :since",
                "FilterExpression": "#status = :declined",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": to_item(
                    {
                        ":pk": f"{_cust(customer_id)}#APPS",
                        ":since": f"{format_instant(since)}#~",
                        ":declined": "DECLINED",
                    }
                ),
                "ScanIndexForward": False,
            }
            while True:
                out = self._client.query(**kwargs)
                if out.get("Items"):
                    return application_from_doc(_doc(from_item(out["Items"][0])))
                if "LastEvaluatedKey" not in out:
                    return None
                kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]

        return await run_blocking(run)

    def _app_update(self, application: Application, at: datetime, *, expired: bool = False) -> TransactOp:
        """Store ``application`` if the stored one is APPROVED and unexpired at ``at`` (or, with
        ``expired``, its hold ended by ``at``); leaving APPROVED takes it off the expiry queue
        (whichever key holds it: its shard, or ``HELD`` if written before the sharding)."""
        expression = "SET #status = :new, doc = :doc"
        if application.status is not ApplicationStatus.APPROVED:
            expression += " REMOVE GSI3PK, GSI3SK"
        return update(
            "application",
            self.table,
            {"PK": _cust(application.customer_id), "SK": f"APP#{application.id}"},
            expression=expression,
            condition="#status = :expected AND expiresAt " + ("<= :now" if expired else "> :now"),
            names={"#status": "status"},
            values={
                ":new": str(application.status),
                ":doc": dumps(application_doc(application)),
                ":expected": str(ApplicationStatus.APPROVED),
                ":now": format_instant(at),
            },
        )

    async def _release_application_claim(self, application: Application) -> list[TransactOp]:
        order = application.order
        return await self._claim_release(
            order.merchant_id, order.order_reference, attribute="applicationId", owner=application.id
        )

    async def _move(self, operations: Sequence[TransactOp]) -> bool:
        """False when a condition failed (moved by another request meanwhile); a transaction
        that lost only to another one on the same items is ``ConcurrentUpdate`` (try again)."""
        try:
            await self._transact(operations)
        except TransactionCancelled:
            return False
        return True

    async def save_cancellation(self, application: Application, *, events: Sequence[Event]) -> bool:
        operations = [self._app_update(application, _at(application.cancelled_at)), *self._event_puts(events)]
        return await self._move(operations + await self._release_application_claim(application))

    async def list_expired_approvals(self, *, now: datetime, limit: int) -> list[Application]:
        rows = await self._query_queue(
            HELD_QUEUE,
            limit=limit,
            condition=" AND GSI3SK < :bound",
            # "<expiresAt>#<id>" < "<now>$" exactly when expiresAt <= now ("$" sorts right after "#")
            values={":bound": f"{format_instant(now)}$"},
        )
        return [application_from_doc(_doc(r)) for r in rows]

    async def save_expiry(self, application: Application, *, events: Sequence[Event]) -> bool:
        operations = [
            self._app_update(application, _at(application.expired_at), expired=True),
            *self._event_puts(events),
        ]
        # the claim goes too, unless another approval took the order over meanwhile
        return await self._move(operations + await self._release_application_claim(application))

    # -- plans ----------------------------------------------------------------------------

    async def save_confirmation(
        self,
        *,
        plan: Plan,
        application: Application,
        idempotency: NewIdempotency,
        payments: Sequence[Payment],
        events: Sequence[Event],
        checkout: CheckoutWrite | None = None,
    ) -> StoredResponse | None:
        at = _at(application.confirmed_at)
        pointer = {"PK": f"PLAN#{plan.id}", "SK": "PLAN", "customerId": plan.customer_id}
        operations = [
            self._idem_put(idempotency),
            self._app_update(application, at),
            put("plan", self.table, self._plan_item(plan, 1), condition="attribute_not_exists(PK)"),
            put("pointer", self.table, pointer, condition="attribute_not_exists(PK)"),
            self._claim_put(application, now=at, plan_id=plan.id),
            *self._record_puts(payments, ()),
            *self._event_puts(events),
            *(self.checkout_ops(checkout) if checkout is not None else ()),
        ]
        return await self._transact_claiming(
            operations,
            idempotency,
            InvalidApplicationState("the application can no longer be confirmed", field="applicationId"),
            failed={"claim": order_taken()},
        )

    async def get_plan(self, customer_id: str, plan_id: str) -> Plan | None:
        row = await self._get(_cust(customer_id), f"PLAN#{plan_id}")
        return self._plan_of(row) if row else None

    async def find_plan(self, plan_id: str) -> Plan | None:
        pointer = await self._get(f"PLAN#{plan_id}", "PLAN")
        if pointer is None:
            return None
        return await self.get_plan(pointer["customerId"], plan_id)

    async def find_plans_by_order(self, merchant_id: str, order_reference: str) -> list[Plan]:
        rows = await self._query(
            IndexName="GSI2",
            KeyConditionExpression="GSI2PK = :pk",
            values={":pk": f"ORDER#{merchant_id}#{order_reference}"},
            ScanIndexForward=False,
        )
        return [self._plan_of(r) for r in rows]

    async def list_plans(self, customer_id: str) -> list[Plan]:
        rows = await self._query(
            KeyConditionExpression="PK = :pk AND begins_with(SK, :plan)",
            values={":pk": _cust(customer_id), ":plan": "PLAN#"},
            ConsistentRead=True,
        )
        plans = [self._plan_of(r) for r in rows]
        return sorted(plans, key=lambda p: (p.terms.created_at, p.id), reverse=True)

    async def list_open_plans(self) -> list[Plan]:
        # GSI3 projects the whole plan item: no GetItem per plan (its reads are eventually
        # consistent; update_plan's version condition catches a stale one); by id, as one
        # partition gave them
        rows = await self._query_queue(OPEN_PLANS_QUEUE)
        return [self._plan_of(r) for r in rows]

    async def update_plan(
        self,
        plan: Plan,
        *,
        payments: Sequence[Payment] = (),
        refunds: Sequence[Refund] = (),
        idempotency: NewIdempotency | None,
        events: Sequence[Event],
        checkout: CheckoutWrite | None = None,
    ) -> StoredResponse | None:
        operations = [self._idem_put(idempotency)] if idempotency is not None else []
        operations.append(
            put(
                "plan",
                self.table,
                self._plan_item(plan, plan.version + 1),
                condition="#v = :expected",
                names={"#v": "version"},
                values={":expected": plan.version},
            )
        )
        operations += self._record_puts(payments, refunds)
        operations += self._event_puts(events)
        if checkout is not None:
            operations += self.checkout_ops(checkout)
        if plan.status is PlanStatus.REFUNDED:  # refunded in full: the order may be financed again
            t = plan.terms
            operations += await self._claim_release(t.merchant_id, t.order_reference, attribute="planId", owner=t.id)
        return await self._transact_claiming(
            operations, idempotency, ConcurrentUpdate("the plan changed meanwhile; try again", field="planId")
        )

    async def _record_docs(self, customer_id: str, plan_id: str, kind: str) -> list[Doc]:
        rows = await self._query(
            KeyConditionExpression="PK = :pk AND begins_with(SK, :rec)",
            values={":pk": _cust(customer_id), ":rec": f"REC#{plan_id}#{kind}#"},
            ConsistentRead=True,
        )
        return [_doc(r) for r in rows]

    async def list_payments(self, customer_id: str, plan_id: str) -> list[Payment]:
        return [payment_from_doc(d) for d in await self._record_docs(customer_id, plan_id, "payment")]

    async def list_refunds(self, customer_id: str, plan_id: str) -> list[Refund]:
        return [refund_from_doc(d) for d in await self._record_docs(customer_id, plan_id, "refund")]

    # -- outbox ---------------------------------------------------------------------------

    async def pending_events(self, *, limit: int) -> list[Event]:
        rows = await self._query_queue(OUTBOX_QUEUE, limit=limit)  # oldest first: GSI3SK is <occurredAt>#<id>
        return [Event.from_message(_doc(r)) for r in rows]

    def _mark_published_sync(self, event_id: str, published_at: datetime) -> None:
        try:
            self._client.update_item(
                TableName=self.table,
                Key=to_item({"PK": f"EVENT#{event_id}", "SK": "EVENT"}),
                UpdateExpression="REMOVE GSI3PK, GSI3SK SET publishedAt = :at, #ttl = :ttl",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues=to_item(
                    {
                        ":at": format_instant(published_at),
                        ":ttl": epoch_seconds(published_at + PUBLISHED_EVENT_RETENTION),
                    }
                ),
            )
        except Exception as exc:
            if error_code(exc) != "ConditionalCheckFailedException":  # purged meanwhile: nothing to mark
                raise

    async def mark_published(self, event_ids: Sequence[str], *, published_at: datetime) -> None:
        for event_id in event_ids:
            await run_blocking(self._mark_published_sync, event_id, published_at)

    async def purge_expired(self, *, now: datetime) -> int:
        return 0  # DynamoDB's TTL deletes expired idempotency records; reads ignore them meanwhile
