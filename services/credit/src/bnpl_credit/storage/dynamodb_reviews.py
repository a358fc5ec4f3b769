"""Review cases, review decisions and the audit log on DynamoDB (mixed into ``DynamoStore``).

Items: case ``CASE#<id>``/``CASE`` (GSI3 ``REVIEW#<status>`` by opening time: the queue and the
expiry sweeper); its outcome ``CASE#<id>``/``DECISION`` (put once, never replaced); the one
case of an application ``CUST#<sub>``/``CASEOF#<applicationId>`` (put only if absent); audit
records ``AUDIT#<subject>``/``<at>#<id>``, one item per subject, put only if absent. In AWS
the task role may not UpdateItem or DeleteItem any ``AUDIT#`` item (IAM ``dynamodb:LeadingKeys``
in the template), so the log is append-only there as here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bnpl_common.dynamodb import TransactOp, put, update
from bnpl_common.errors import ConcurrentUpdate
from bnpl_common.idempotency import StoredResponse
from bnpl_common.timefmt import format_instant

from bnpl_credit.applications.model import Application, ApplicationStatus
from bnpl_credit.applications.ports import Reservation, ReservationConflict, order_taken
from bnpl_credit.audit.model import AuditRecord
from bnpl_credit.checkouts.ports import CheckoutWrite
from bnpl_credit.events.model import Event
from bnpl_credit.idempotency import NewIdempotency
from bnpl_credit.plans.ledger import Plan
from bnpl_credit.reviews.model import LIVE_STATUSES, CaseStatus, ReviewCase, ReviewDecision
from bnpl_credit.reviews.ports import ApplicationChange, AuditCursor, CaseAlreadyOpen, CaseCursor
from bnpl_credit.storage.documents import application_doc, dumps, loads
from bnpl_credit.storage.dynamodb_holds import hold_marker
from bnpl_credit.storage.dynamodb_shards import HELD_QUEUE, shard_partition
from bnpl_credit.storage.review_documents import (
    audit_doc,
    audit_from_doc,
    case_doc,
    case_from_doc,
    review_decision_doc,
    review_decision_from_doc,
)

Row = dict[str, Any]
TALLY_PREFIX = "DECDAY#"
TALLY_SHARDS = 8
TALLY_RETENTION = timedelta(days=40)  # the table's TTL drops a day's tally after it


def _queue(status: CaseStatus) -> str:
    return f"REVIEW#{status}"


class DynamoReviews:
    """The ``ReviewStore`` half of ``DynamoStore``."""

    if TYPE_CHECKING:
        table: str

        async def _get(self, pk: str, sk: str) -> Row | None: ...

        async def _query(self, *, values: Mapping[str, Any], limit: int | None = None, **kwargs: Any) -> list[Row]: ...

        async def _transact(self, operations: Sequence[TransactOp]) -> None: ...

        def _idem_put(self, record: NewIdempotency) -> TransactOp: ...

        def _event_puts(self, events: Sequence[Event]) -> list[TransactOp]: ...

        def _claim_put(self, application: Application, *, now: datetime, plan_id: str | None = None) -> TransactOp: ...

        def checkout_ops(self, write: CheckoutWrite) -> list[TransactOp]: ...

        @staticmethod
        def _plan_item(plan: Plan, version: int) -> Row: ...

        async def _transact_claiming(
            self,
            operations: Sequence[TransactOp],
            idempotency: NewIdempotency | None,
            conflict: Exception,
            *,
            failed: Mapping[str, Exception] | None = None,
        ) -> StoredResponse | None: ...

    # -- operation builders -----------------------------------------------------------------

    def _case_item(self, case: ReviewCase) -> Row:
        return {
            "PK": f"CASE#{case.id}",
            "SK": "CASE",
            "GSI3PK": _queue(case.status),
            "GSI3SK": f"{format_instant(case.opened_at)}#{case.id}",
            "status": str(case.status),
            "version": case.version,
            "doc": dumps(case_doc(case)),
        }

    def _case_open_ops(self, case: ReviewCase) -> list[TransactOp]:
        pointer = {
            "PK": f"CUST#{case.customer_id}",
            "SK": f"CASEOF#{case.application_id}",
            "caseId": case.id,
        }
        return [
            put("caseof", self.table, pointer, condition="attribute_not_exists(PK)"),
            put("case", self.table, self._case_item(case), condition="attribute_not_exists(PK)"),
        ]

    def decision_tally_put(self, application: Application) -> TransactOp:
        """One item per decision under its day's shard: the dashboard counts decisions by
        outcome with a few queries, and no two decisions write the same item (no hot counter)."""
        at = application.created_at
        shard = int(application.id.replace("-", "")[:8], 16) % TALLY_SHARDS if application.id else 0
        item = {
            "PK": f"{TALLY_PREFIX}{at.date().isoformat()}#{shard}",
            "SK": f"{format_instant(at)}#{application.id}",
            "outcome": str(application.decision),
            "ttl": int((at + TALLY_RETENTION).timestamp()),
        }
        return put("tally", self.table, item)

    def _audit_puts(self, records: Sequence[AuditRecord]) -> list[TransactOp]:
        ops = []
        for record in records:
            doc = dumps(audit_doc(record))
            at = format_instant(record.at)
            for n, subject in enumerate(record.subjects):
                item = {"PK": f"AUDIT#{subject}", "SK": f"{at}#{record.id}", "doc": doc}
                ops.append(put(f"audit:{record.id}:{n}", self.table, item, condition="attribute_not_exists(PK)"))
        return ops

    def _reserve_op(self, customer_id: str, reservation: Reservation, at: datetime) -> TransactOp:
        key = {"PK": f"CUST#{customer_id}", "SK": "ACCOUNT"}
        if reservation.expected_version is None:
            if reservation.new_account is None:
                raise ReservationConflict("the credit line changed meanwhile", field="caseId")
            new = reservation.new_account
            item = {**key, "creditLimit": new.credit_limit, "currency": new.currency, "version": 1}
            item["setAt"] = format_instant(at)
            return put("account", self.table, item, condition="attribute_not_exists(PK)")
        return update(
            "account",
            self.table,
            key,
            expression="SET #v = #v + :one",
            condition="#v = :expected",
            names={"#v": "version"},
            values={":one": 1, ":expected": reservation.expected_version},
        )

    def _change_ops(self, change: ApplicationChange) -> list[TransactOp]:
        app: Application = change.application
        ops: list[TransactOp] = []
        if change.reservation is not None:
            ops.append(self._reserve_op(app.customer_id, change.reservation, change.at))
        if change.claim_order:
            ops.append(self._claim_put(app, now=change.at))
        values: dict[str, Any] = {
            ":new": str(app.status),
            ":doc": dumps(application_doc(app)),
            ":expected": str(change.expected_status),
            ":exp": format_instant(app.expires_at) if app.expires_at else "",
        }
        expression = "SET #status = :new, doc = :doc, expiresAt = :exp"
        if app.status is ApplicationStatus.APPROVED and app.expires_at:
            expression += ", GSI3PK = :held, GSI3SK = :heldsk"
            values[":held"] = shard_partition(HELD_QUEUE, app.id)  # replaces an unsharded HELD too
            values[":heldsk"] = f"{format_instant(app.expires_at)}#{app.id}"
            ops.append(hold_marker(self.table, app))  # a decision's snapshot finds the hold by it
        else:
            expression += " REMOVE GSI3PK, GSI3SK"
        ops.append(
            update(
                "application",
                self.table,
                {"PK": f"CUST#{app.customer_id}", "SK": f"APP#{app.id}"},
                expression=expression,
                condition="#status = :expected",
                names={"#status": "status"},
                values=values,
            )
        )
        if change.checkout is not None:
            ops += self.checkout_ops(change.checkout)
        return ops

    # -- writes -----------------------------------------------------------------------------

    async def open_case(
        self,
        case: ReviewCase,
        *,
        audit: Sequence[AuditRecord],
        events: Sequence[Event],
        idempotency: NewIdempotency | None,
    ) -> StoredResponse | None:
        operations = [*self._case_open_ops(case), *self._audit_puts(audit), *self._event_puts(events)]
        if idempotency is not None:
            operations.insert(0, self._idem_put(idempotency))
        return await self._transact_claiming(
            operations,
            idempotency,
            ConcurrentUpdate("the case changed meanwhile; try again", field="applicationId"),
            failed={"caseof": CaseAlreadyOpen(case.application_id)},
        )

    async def save_case(
        self,
        case: ReviewCase,
        *,
        change: ApplicationChange | None,
        decision: ReviewDecision | None,
        audit: Sequence[AuditRecord],
        events: Sequence[Event],
        idempotency: NewIdempotency | None,
    ) -> StoredResponse | None:
        operations: list[TransactOp] = []
        if idempotency is not None:
            operations.append(self._idem_put(idempotency))
        operations.append(
            put(
                "case",
                self.table,
                self._case_item(case),
                condition="#v = :v",
                names={"#v": "version"},
                values={":v": case.version - 1},
            )
        )
        if change is not None:
            operations += self._change_ops(change)
        if decision is not None:
            item = {"PK": f"CASE#{decision.case_id}", "SK": "DECISION", "doc": dumps(review_decision_doc(decision))}
            operations.append(put("decision", self.table, item, condition="attribute_not_exists(PK)"))
        operations += self._audit_puts(audit)
        operations += self._event_puts(events)
        return await self._transact_claiming(
            operations,
            idempotency,
            ConcurrentUpdate("the case changed meanwhile; try again", field="caseId"),
            failed={
                "account": ReservationConflict("the credit line changed meanwhile", field="caseId"),
                "claim": order_taken(),
            },
        )

    async def save_staff_plan_change(
        self,
        plan: Plan,
        *,
        audit: Sequence[AuditRecord],
        events: Sequence[Event],
        idempotency: NewIdempotency | None,
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
        operations += self._audit_puts(audit)
        operations += self._event_puts(events)
        return await self._transact_claiming(
            operations, idempotency, ConcurrentUpdate("the plan changed meanwhile; try again", field="planId")
        )

    async def decision_counts(self, start: datetime, end: datetime) -> dict[str, int]:
        counts: dict[str, int] = {}
        day = start.date()
        while datetime.combine(day, datetime.min.time(), tzinfo=start.tzinfo) < end:
            for shard in range(TALLY_SHARDS):
                rows = await self._query(
                    KeyConditionExpression="PK = :pk AND SK BETWEEN :from AND :to",
                    ProjectionExpression="outcome",
                    values={
                        ":pk": f"{TALLY_PREFIX}{day.isoformat()}#{shard}",
                        ":from": format_instant(start),
                        ":to": format_instant(end),
                    },
                )
                for row in rows:
                    counts[str(row["outcome"])] = counts.get(str(row["outcome"]), 0) + 1
            day += timedelta(days=1)
        return counts

    async def append_audit(self, records: Sequence[AuditRecord]) -> None:
        await self._transact(self._audit_puts(records))

    # -- reads ------------------------------------------------------------------------------

    @staticmethod
    def _case_of(row: Row) -> ReviewCase:
        return case_from_doc(loads(row["doc"]), int(row["version"]))

    async def get_case(self, case_id: str) -> ReviewCase | None:
        row = await self._get(f"CASE#{case_id}", "CASE")
        return self._case_of(row) if row else None

    async def case_for_application(self, customer_id: str, application_id: str) -> ReviewCase | None:
        pointer = await self._get(f"CUST#{customer_id}", f"CASEOF#{application_id}")
        return await self.get_case(str(pointer["caseId"])) if pointer else None

    async def list_cases(self, status: CaseStatus, *, limit: int, after: CaseCursor | None) -> list[ReviewCase]:
        condition = "GSI3PK = :pk"
        values = {":pk": _queue(status)}
        if after is not None:
            condition += " AND GSI3SK > :after"
            values[":after"] = f"{format_instant(after.opened_at)}#{after.case_id}"
        rows = await self._query(limit=limit, IndexName="GSI3", KeyConditionExpression=condition, values=values)
        return [self._case_of(r) for r in rows]

    async def list_live_cases_opened_before(self, moment: datetime, *, limit: int) -> list[ReviewCase]:
        found: list[ReviewCase] = []
        for status in LIVE_STATUSES:
            rows = await self._query(
                limit=limit,
                IndexName="GSI3",
                KeyConditionExpression="GSI3PK = :pk AND GSI3SK < :bound",
                values={":pk": _queue(status), ":bound": f"{format_instant(moment)}$"},
            )
            found += [self._case_of(r) for r in rows]
        found.sort(key=lambda c: (c.opened_at, c.id))
        return found[:limit]

    async def get_review_decision(self, case_id: str) -> ReviewDecision | None:
        row = await self._get(f"CASE#{case_id}", "DECISION")
        return review_decision_from_doc(loads(row["doc"])) if row else None

    async def list_audit(self, subject: str, *, limit: int, after: AuditCursor | None) -> list[AuditRecord]:
        condition = "PK = :pk"
        values = {":pk": f"AUDIT#{subject}"}
        if after is not None:
            condition += " AND SK < :after"
            values[":after"] = f"{format_instant(after.at)}#{after.record_id}"
        rows = await self._query(limit=limit, KeyConditionExpression=condition, values=values, ScanIndexForward=False)
        return [audit_from_doc(loads(r["doc"])) for r in rows]
