"""The embedded SQLite adapter of :class:`~bnpl_credit.storage.port.CreditStore` (one file, WAL).

Each call is one transaction of :class:`bnpl_common.sqlite.SqliteDatabase` (its own connection
in a worker thread): reads in one deferred transaction (one snapshot); writes in one
``BEGIN IMMEDIATE`` transaction, so everything a request writes lands together or not at all
and concurrent writers queue on the lock.
Unique constraints back the invariants (one plan per application, one record per id,
one idempotency record per key, one live claim per merchant order); triggers make decision
records immutable.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

from bnpl_common.idempotency import StoredResponse
from bnpl_common.sqlite import SqliteDatabase
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
from bnpl_credit.storage.sqlite_checkouts import CHECKOUT_SCHEMA, SqliteCheckouts
from bnpl_credit.storage.sqlite_merchants import MERCHANT_SCHEMA, SqliteMerchants
from bnpl_credit.storage.sqlite_payments import SqlitePayments
from bnpl_credit.storage.sqlite_persons import SqlitePersons
from bnpl_credit.storage.sqlite_reviews import REVIEW_SCHEMA, SqliteReviews
from bnpl_credit.storage.sqlite_webhooks import WEBHOOK_SCHEMA, SqliteWebhookDeliveries

SCHEMA = """
CREATE TABLE IF NOT EXISTS applications (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL,
    expires_at TEXT,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS applications_by_customer ON applications (customer_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS applications_by_expiry ON applications (status, expires_at);
-- a decision's snapshot reads the customer's live approvals only, and its finance check the newest
-- decline only, however many applications they made
CREATE INDEX IF NOT EXISTS applications_by_customer_status_time ON applications (customer_id, status, created_at);
DROP INDEX IF EXISTS applications_by_customer_status;
CREATE TABLE IF NOT EXISTS decisions (
    application_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS decisions_immutable BEFORE UPDATE ON decisions
BEGIN SELECT RAISE(ABORT, 'decision records are immutable'); END;
CREATE TRIGGER IF NOT EXISTS decisions_undeletable BEFORE DELETE ON decisions
BEGIN SELECT RAISE(ABORT, 'decision records are immutable'); END;
CREATE TABLE IF NOT EXISTS idempotency (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status_code INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE TABLE IF NOT EXISTS accounts (
    customer_id TEXT PRIMARY KEY,
    credit_limit INTEGER NOT NULL,
    currency TEXT NOT NULL,
    version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS plans (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    application_id TEXT NOT NULL UNIQUE,
    merchant_id TEXT NOT NULL,
    order_reference TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL,
    version INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS plans_by_customer ON plans (customer_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS plans_by_order ON plans (merchant_id, order_reference);
CREATE INDEX IF NOT EXISTS plans_by_status ON plans (status);
CREATE TABLE IF NOT EXISTS plan_records (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    plan_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_by_plan ON plan_records (plan_id, kind, created_at);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    doc TEXT NOT NULL,
    published_at TEXT
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (seq) WHERE published_at IS NULL;
CREATE TABLE IF NOT EXISTS order_claims (
    merchant_id TEXT NOT NULL,
    order_reference TEXT NOT NULL,
    application_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    plan_id TEXT,
    held_until TEXT,
    PRIMARY KEY (merchant_id, order_reference)
);
"""

# the two sides of an approval's hold: confirmable or cancellable before expires_at, expirable from then on
_APPROVED_UNEXPIRED = "status = 'APPROVED' AND expires_at > ?"
_APPROVED_EXPIRED = "status = 'APPROVED' AND expires_at <= ?"


def _at(moment: datetime | None) -> str:
    if moment is None:
        raise ValueError("a transition needs its time")
    return format_instant(moment)


@lru_cache(maxsize=2048)
def _application(doc: str) -> Application:
    """An application from its stored text, kept by that text: every decision decodes the
    customer's live approvals again (about a tenth of the credit service's CPU when a shopper
    holds dozens), and an ``Application`` is immutable (frozen dataclasses and tuples
    all the way down), so one decoded object is shared safely. A changed application is a
    changed text, so nothing stale is ever returned; at most 2,048 texts (a few MB) are kept."""
    return application_from_doc(loads(doc))


class SqliteStore(
    SqliteMerchants, SqliteCheckouts, SqliteWebhookDeliveries, SqlitePersons, SqliteReviews, SqlitePayments
):
    """``CreditStore`` on one SQLite file."""

    def __init__(self, path: str | Path, *, idempotency_ttl: timedelta = DEFAULT_IDEMPOTENCY_TTL) -> None:
        self.path = str(path)
        self._ttl = idempotency_ttl
        self._db = SqliteDatabase(
            self.path,
            schema_sql=SCHEMA + MERCHANT_SCHEMA + CHECKOUT_SCHEMA + WEBHOOK_SCHEMA + REVIEW_SCHEMA,
            busy_timeout=30.0,
        )
        self._db.create_schema_sync()
        self._create_persons_schema()
        self._create_payments_schema()

    # -- plumbing -------------------------------------------------------------------------

    async def ping(self) -> bool:
        """Ready only if a write can be committed now: with the disk full, reads still work and
        a read-only probe would call the service ready while every write fails."""
        return await self._db.writable()

    async def close(self) -> None:
        return None

    # -- idempotency ----------------------------------------------------------------------

    @staticmethod
    def _load_key(conn: sqlite3.Connection, scope: str, key: str, now: str) -> StoredResponse | None:
        row = conn.execute(
            "SELECT fingerprint, status_code, body FROM idempotency WHERE scope = ? AND key = ? AND expires_at > ?",
            (scope, key, now),
        ).fetchone()
        return StoredResponse(row["fingerprint"], row["status_code"], loads(row["body"])) if row else None

    def _claim_key(self, conn: sqlite3.Connection, record: NewIdempotency) -> StoredResponse | None:
        """The winner's response if the key is taken (and alive); else write ours."""
        now = format_instant(record.created_at)
        existing = self._load_key(conn, record.scope, record.key, now)
        if existing is not None:
            return existing
        conn.execute("DELETE FROM idempotency WHERE scope = ? AND key = ?", (record.scope, record.key))
        conn.execute(
            "INSERT INTO idempotency (scope, key, fingerprint, status_code, body, created_at, expires_at)"
            " VALUES (?,?,?,?,?,?,?)",
            (
                record.scope,
                record.key,
                record.fingerprint,
                record.status_code,
                dumps(record.body),
                now,
                format_instant(record.created_at + self._ttl),
            ),
        )
        return None

    async def get_idempotent(self, scope: str, key: str, *, now: datetime) -> StoredResponse | None:
        return await self._db.read(lambda c: self._load_key(c, scope, key, format_instant(now)))

    @staticmethod
    def _add_events(conn: sqlite3.Connection, events: Sequence[Event]) -> None:
        for event in events:
            message = event.to_message()
            conn.execute(
                "INSERT INTO outbox (id, type, occurred_at, doc) VALUES (?,?,?,?)",
                (event.id, message["type"], message["occurredAt"], dumps(message)),
            )

    @staticmethod
    def _add_records(conn: sqlite3.Connection, payments: Sequence[Payment], refunds: Sequence[Refund]) -> None:
        rows = [("payment", p.id, p.customer_id, p.plan_id, p.created_at, dumps(payment_doc(p))) for p in payments]
        rows += [("refund", r.id, r.customer_id, r.plan_id, r.created_at, dumps(refund_doc(r))) for r in refunds]
        for kind, record_id, customer_id, plan_id, created_at, doc in rows:
            conn.execute(
                "INSERT INTO plan_records (id, kind, customer_id, plan_id, created_at, doc) VALUES (?,?,?,?,?,?)",
                (record_id, kind, customer_id, plan_id, format_instant(created_at), doc),
            )

    @staticmethod
    def _move_application(conn: sqlite3.Connection, application: Application, condition: str, at: str) -> bool:
        """Store ``application`` (its new status) if the stored one meets ``condition`` (one of
        the constants above) at ``at``."""
        changed = conn.execute(
            f"UPDATE applications SET status = ?, doc = ? WHERE id = ? AND customer_id = ? AND {condition}",  # noqa: S608 - constant
            (str(application.status), dumps(application_doc(application)), application.id, application.customer_id, at),
        )
        return changed.rowcount == 1

    # -- order claims: one live approval or plan per merchant order --------------------------

    @staticmethod
    def _load_claim(conn: sqlite3.Connection, merchant_id: str, order_reference: str) -> OrderClaim | None:
        row = conn.execute(
            "SELECT application_id, customer_id, plan_id, held_until FROM order_claims"
            " WHERE merchant_id = ? AND order_reference = ?",
            (merchant_id, order_reference),
        ).fetchone()
        if row is None:
            return None
        held_until = parse_instant(row["held_until"]) if row["held_until"] else None
        return OrderClaim(row["application_id"], row["customer_id"], row["plan_id"], held_until)

    def _claim_order(
        self, conn: sqlite3.Connection, application: Application, *, now: datetime, plan_id: str | None = None
    ) -> None:
        """Take (or, for ``plan_id``, turn into a plan's) the claim on the application's order;
        ``OrderAlreadyFinanced`` when another live approval or plan holds it."""
        order = application.order
        current = self._load_claim(conn, order.merchant_id, order.order_reference)
        if current is not None and current.application_id != application.id and current.is_live(now):
            raise order_taken()
        conn.execute(
            "INSERT OR REPLACE INTO order_claims"
            " (merchant_id, order_reference, application_id, customer_id, plan_id, held_until) VALUES (?,?,?,?,?,?)",
            (
                order.merchant_id,
                order.order_reference,
                application.id,
                application.customer_id,
                plan_id,
                None if plan_id else _at(application.expires_at),
            ),
        )

    @staticmethod
    def _release_claim(
        conn: sqlite3.Connection, merchant_id: str, order_reference: str, *, column: str, owner: str
    ) -> None:
        """Drop the order's claim if it is still this application's (``column`` application_id)
        or this plan's (``plan_id``)."""
        conn.execute(
            f"DELETE FROM order_claims WHERE merchant_id = ? AND order_reference = ? AND {column} = ?",  # noqa: S608 - a column name of ours
            (merchant_id, order_reference, owner),
        )

    async def get_order_claim(self, merchant_id: str, order_reference: str, *, now: datetime) -> OrderClaim | None:
        def run(conn: sqlite3.Connection) -> OrderClaim | None:
            claim = self._load_claim(conn, merchant_id, order_reference)
            return claim if claim is not None and claim.is_live(now) else None

        return await self._db.read(run)

    # -- applications ---------------------------------------------------------------------

    async def snapshot(self, customer_id: str, *, now: datetime | None = None) -> CustomerSnapshot:
        # the (customer_id, status, ...) index reads the customer's approvals only; with ``now``,
        # those the expiry sweeper has not reached yet are left undecoded too
        live = "" if now is None else " AND expires_at > ?"
        # a referral holds while its review case is open; an approval until its hold ends
        held = f"status = 'REFERRED' OR (status = 'APPROVED'{live})"
        args = (customer_id,) if now is None else (customer_id, format_instant(now))

        def run(conn: sqlite3.Connection) -> CustomerSnapshot:
            row = conn.execute(
                "SELECT credit_limit, currency, version FROM accounts WHERE customer_id = ?", (customer_id,)
            ).fetchone()
            account = Account(row["credit_limit"], row["currency"], row["version"]) if row else None
            apps = tuple(
                _application(r["doc"])
                for r in conn.execute(
                    f"SELECT doc FROM applications WHERE customer_id = ? AND ({held})",  # noqa: S608 - fixed SQL
                    args,
                )
            )
            plans = tuple(
                plan_from_doc(loads(r["doc"]), int(r["version"]))
                for r in conn.execute("SELECT doc, version FROM plans WHERE customer_id = ?", (customer_id,))
            )
            return CustomerSnapshot(account, apps, plans)

        return await self._db.read(run)

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
        customer_id = application.customer_id

        def run(conn: sqlite3.Connection) -> StoredResponse | None:
            winner = self._claim_key(conn, idempotency)
            if winner is not None:  # a concurrent retry won the race: its answer stands
                return winner
            if reservation is not None:
                holder = reservation.holder or customer_id  # a person's line is its first account's
                row = conn.execute("SELECT version FROM accounts WHERE customer_id = ?", (holder,)).fetchone()
                if reservation.expected_version is None:
                    if row is not None or reservation.new_account is None:
                        raise ReservationConflict("the credit line changed meanwhile", field="order")
                    new = reservation.new_account
                    conn.execute(
                        "INSERT INTO accounts (customer_id, credit_limit, currency, version) VALUES (?,?,?,1)",
                        (holder, new.credit_limit, new.currency),
                    )
                else:
                    changed = conn.execute(
                        "UPDATE accounts SET version = version + 1 WHERE customer_id = ? AND version = ?",
                        (holder, reservation.expected_version),
                    )
                    if changed.rowcount != 1:
                        raise ReservationConflict("the credit line changed meanwhile", field="order")
            if application.status is ApplicationStatus.APPROVED:
                self._claim_order(conn, application, now=application.created_at)
            conn.execute(
                "INSERT INTO applications (id, customer_id, created_at, status, expires_at, doc) VALUES (?,?,?,?,?,?)",
                (
                    application.id,
                    customer_id,
                    format_instant(application.created_at),
                    str(application.status),
                    format_instant(application.expires_at) if application.expires_at else None,
                    dumps(application_doc(application)),
                ),
            )
            conn.execute(
                "INSERT INTO decisions (application_id, customer_id, created_at, record) VALUES (?,?,?,?)",
                (
                    application.id,
                    customer_id,
                    format_instant(application.created_at),
                    dumps(decision_record_doc(record)),
                ),
            )
            if review is not None:  # a REFERRED decision opens its review case
                self._insert_case(conn, review)
            self._add_events(conn, events)
            if checkout is not None:
                self.write_checkout(conn, checkout)
            return None

        return await self._db.write(run)

    async def get_application(self, customer_id: str, application_id: str) -> Application | None:
        def run(conn: sqlite3.Connection) -> Application | None:
            row = conn.execute(
                "SELECT doc FROM applications WHERE id = ? AND customer_id = ?", (application_id, customer_id)
            ).fetchone()
            return _application(row["doc"]) if row else None

        return await self._db.read(run)

    async def get_decision_record(self, customer_id: str, application_id: str) -> DecisionRecord | None:
        def run(conn: sqlite3.Connection) -> DecisionRecord | None:
            row = conn.execute(
                "SELECT record FROM decisions WHERE application_id = ? AND customer_id = ?",
                (application_id, customer_id),
            ).fetchone()
            return decision_record_from_doc(loads(row["record"])) if row else None

        return await self._db.read(run)

    async def list_applications(self, customer_id: str, *, limit: int, after: PageCursor | None) -> list[Application]:
        def run(conn: sqlite3.Connection) -> list[Application]:
            if after is None:
                rows = conn.execute(
                    "SELECT doc FROM applications WHERE customer_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
                    (customer_id, limit),
                )
            else:
                rows = conn.execute(
                    "SELECT doc FROM applications WHERE customer_id = ? AND (created_at, id) < (?, ?)"
                    " ORDER BY created_at DESC, id DESC LIMIT ?",
                    (customer_id, format_instant(after.created_at), after.application_id, limit),
                )
            return [_application(r["doc"]) for r in rows]

        return await self._db.read(run, scan=True)

    async def newest_decline(self, customer_id: str, *, since: datetime) -> Application | None:
        def run(conn: sqlite3.Connection) -> Application | None:
            # status DECLINED is decision DECLINED: a decline is final, a review that declines sets both
            row = conn.execute(
                "SELECT doc FROM applications WHERE customer_id = ? AND status = 'DECLINED' AND created_at > ?"
                " ORDER BY created_at DESC, id DESC LIMIT 1",
                (customer_id, format_instant(since)),
            ).fetchone()
            return _application(row["doc"]) if row else None

        return await self._db.read(run)

    async def save_cancellation(self, application: Application, *, events: Sequence[Event]) -> bool:
        return await self._end_approval(application, _APPROVED_UNEXPIRED, _at(application.cancelled_at), events)

    async def _end_approval(self, application: Application, condition: str, at: str, events: Sequence[Event]) -> bool:
        """Move an approval out of APPROVED (cancelled or expired) under ``condition`` and free its
        order claim, with its events, in one transaction; ``False`` when the condition failed."""

        def run(conn: sqlite3.Connection) -> bool:
            if not self._move_application(conn, application, condition, at):
                return False
            order = application.order
            self._release_claim(
                conn, order.merchant_id, order.order_reference, column="application_id", owner=application.id
            )
            self._add_events(conn, events)
            return True

        return await self._db.write(run)

    async def list_expired_approvals(self, *, now: datetime, limit: int) -> list[Application]:
        def run(conn: sqlite3.Connection) -> list[Application]:
            rows = conn.execute(
                "SELECT doc FROM applications WHERE status = 'APPROVED' AND expires_at <= ?"
                " ORDER BY expires_at, id LIMIT ?",
                (format_instant(now), limit),
            )
            return [_application(r["doc"]) for r in rows]

        return await self._db.read(run, scan=True)

    async def save_expiry(self, application: Application, *, events: Sequence[Event]) -> bool:
        return await self._end_approval(application, _APPROVED_EXPIRED, _at(application.expired_at), events)

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
        def run(conn: sqlite3.Connection) -> StoredResponse | None:
            winner = self._claim_key(conn, idempotency)
            if winner is not None:
                return winner
            at = application.confirmed_at
            if not self._move_application(conn, application, _APPROVED_UNEXPIRED, _at(at)):
                raise InvalidApplicationState("the application can no longer be confirmed", field="applicationId")
            assert at is not None
            self._claim_order(conn, application, now=at, plan_id=plan.id)
            t = plan.terms
            conn.execute(
                "INSERT INTO plans (id, customer_id, application_id, merchant_id, order_reference, created_at, status,"
                " version, doc) VALUES (?,?,?,?,?,?,?,1,?)",
                (
                    t.id,
                    t.customer_id,
                    t.application_id,
                    t.merchant_id,
                    t.order_reference,
                    format_instant(t.created_at),
                    str(plan.status),
                    dumps(plan_doc(plan)),
                ),
            )
            self._add_records(conn, payments, ())
            self._add_events(conn, events)
            if checkout is not None:
                self.write_checkout(conn, checkout)
            return None

        return await self._db.write(run)

    @staticmethod
    def _plans(rows: Sequence[sqlite3.Row]) -> list[Plan]:
        return [plan_from_doc(loads(r["doc"]), int(r["version"])) for r in rows]

    async def get_plan(self, customer_id: str, plan_id: str) -> Plan | None:
        def run(conn: sqlite3.Connection) -> Plan | None:
            rows = conn.execute(
                "SELECT doc, version FROM plans WHERE id = ? AND customer_id = ?", (plan_id, customer_id)
            ).fetchall()
            return next(iter(self._plans(rows)), None)

        return await self._db.read(run)

    async def find_plan(self, plan_id: str) -> Plan | None:
        def run(conn: sqlite3.Connection) -> Plan | None:
            rows = conn.execute("SELECT doc, version FROM plans WHERE id = ?", (plan_id,)).fetchall()
            return next(iter(self._plans(rows)), None)

        return await self._db.read(run)

    async def find_plans_by_order(self, merchant_id: str, order_reference: str) -> list[Plan]:
        def run(conn: sqlite3.Connection) -> list[Plan]:
            rows = conn.execute(
                "SELECT doc, version FROM plans WHERE merchant_id = ? AND order_reference = ? ORDER BY created_at DESC",
                (merchant_id, order_reference),
            ).fetchall()
            return self._plans(rows)

        return await self._db.read(run, scan=True)

    async def list_plans(self, customer_id: str) -> list[Plan]:
        def run(conn: sqlite3.Connection) -> list[Plan]:
            rows = conn.execute(
                "SELECT doc, version FROM plans WHERE customer_id = ? ORDER BY created_at DESC, id DESC",
                (customer_id,),
            ).fetchall()
            return self._plans(rows)

        return await self._db.read(run, scan=True)

    async def list_open_plans(self) -> list[Plan]:
        def run(conn: sqlite3.Connection) -> list[Plan]:
            rows = conn.execute("SELECT doc, version FROM plans WHERE status = 'ACTIVE' ORDER BY id").fetchall()
            return self._plans(rows)

        return await self._db.read(run, scan=True)

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
        def run(conn: sqlite3.Connection) -> StoredResponse | None:
            if idempotency is not None:
                winner = self._claim_key(conn, idempotency)
                if winner is not None:
                    return winner
            changed = conn.execute(
                "UPDATE plans SET doc = ?, status = ?, version = version + 1 WHERE id = ? AND customer_id = ?"
                " AND version = ?",
                (dumps(plan_doc(plan)), str(plan.status), plan.id, plan.customer_id, plan.version),
            )
            if changed.rowcount != 1:
                raise ConcurrentUpdate("the plan changed meanwhile; try again", field="planId")
            if plan.status is PlanStatus.REFUNDED:  # refunded in full: the order may be financed again
                t = plan.terms
                self._release_claim(conn, t.merchant_id, t.order_reference, column="plan_id", owner=plan.id)
            self._add_records(conn, payments, refunds)
            self._add_events(conn, events)
            if checkout is not None:
                self.write_checkout(conn, checkout)
            return None

        return await self._db.write(run)

    async def list_payments(self, customer_id: str, plan_id: str) -> list[Payment]:
        docs = await self._db.read(lambda c: _record_docs(c, customer_id, plan_id, "payment"))
        return [payment_from_doc(d) for d in docs]

    async def list_refunds(self, customer_id: str, plan_id: str) -> list[Refund]:
        docs = await self._db.read(lambda c: _record_docs(c, customer_id, plan_id, "refund"))
        return [refund_from_doc(d) for d in docs]

    # -- outbox ---------------------------------------------------------------------------

    async def pending_events(self, *, limit: int) -> list[Event]:
        def run(conn: sqlite3.Connection) -> list[Event]:
            rows = conn.execute("SELECT doc FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT ?", (limit,))
            return [Event.from_message(loads(r["doc"])) for r in rows]

        return await self._db.read(run, scan=True)

    async def mark_published(self, event_ids: Sequence[str], *, published_at: datetime) -> None:
        def run(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "UPDATE outbox SET published_at = ? WHERE id = ? AND published_at IS NULL",
                [(format_instant(published_at), eid) for eid in event_ids],
            )

        await self._db.write(run)

    async def purge_expired(self, *, now: datetime) -> int:
        def run(conn: sqlite3.Connection) -> int:
            return conn.execute("DELETE FROM idempotency WHERE expires_at <= ?", (format_instant(now),)).rowcount

        return await self._db.write(run)


def _record_docs(conn: sqlite3.Connection, customer_id: str, plan_id: str, kind: str) -> list[Doc]:
    rows = conn.execute(
        "SELECT doc FROM plan_records WHERE plan_id = ? AND customer_id = ? AND kind = ? ORDER BY created_at, id",
        (plan_id, customer_id, kind),
    )
    return [loads(r["doc"]) for r in rows]
