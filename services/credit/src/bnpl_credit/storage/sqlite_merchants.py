"""The merchant registry on SQLite (mixed into :class:`~bnpl_credit.storage.sqlite.SqliteStore`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from bnpl_common.sqlite import SqliteDatabase

from bnpl_credit.audit.model import AuditRecord
from bnpl_credit.merchants.model import Merchant
from bnpl_credit.merchants.ports import MerchantConflict
from bnpl_credit.storage.documents import dumps, loads
from bnpl_credit.storage.merchant_documents import merchant_doc, merchant_from_doc

MERCHANT_SCHEMA = """
CREATE TABLE IF NOT EXISTS merchants (
    id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS merchant_keys (
    access_key_id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS merchant_keys_by_merchant ON merchant_keys (merchant_id);
"""


def load_merchant(conn: sqlite3.Connection, merchant_id: str) -> Merchant | None:
    row = conn.execute("SELECT doc, version FROM merchants WHERE id = ?", (merchant_id,)).fetchone()
    return merchant_from_doc(loads(row["doc"]), int(row["version"])) if row else None


class SqliteMerchants:
    """``MerchantStore`` on the store's SQLite file."""

    _db: SqliteDatabase

    if TYPE_CHECKING:

        @staticmethod
        def _add_audit(conn: sqlite3.Connection, records: Sequence[AuditRecord]) -> None: ...  # SqliteReviews'

    async def get_merchant(self, merchant_id: str) -> Merchant | None:
        return await self._db.read(lambda c: load_merchant(c, merchant_id))

    async def merchant_by_access_key(self, access_key_id: str) -> Merchant | None:
        def run(conn: sqlite3.Connection) -> Merchant | None:
            row = conn.execute(
                "SELECT merchant_id FROM merchant_keys WHERE access_key_id = ?", (access_key_id,)
            ).fetchone()
            return load_merchant(conn, row["merchant_id"]) if row else None

        return await self._db.read(run)

    async def list_merchants(self) -> list[Merchant]:
        def run(conn: sqlite3.Connection) -> list[Merchant]:
            rows = conn.execute("SELECT doc, version FROM merchants ORDER BY id").fetchall()
            return [merchant_from_doc(loads(r["doc"]), int(r["version"])) for r in rows]

        return await self._db.read(run, scan=True)

    async def put_merchant(
        self, merchant: Merchant, *, expected_version: int | None, audit: Sequence[AuditRecord] = ()
    ) -> Merchant:
        stored = replace(merchant, version=(expected_version or 0) + 1)

        def run(conn: sqlite3.Connection) -> Merchant:
            doc = dumps(merchant_doc(stored))
            if expected_version is None:
                try:
                    conn.execute("INSERT INTO merchants (id, version, doc) VALUES (?,?,?)", (stored.id, 1, doc))
                except sqlite3.IntegrityError as exc:
                    raise MerchantConflict("a merchant with this id exists", field="merchantId") from exc
            else:
                changed = conn.execute(
                    "UPDATE merchants SET doc = ?, version = ? WHERE id = ? AND version = ?",
                    (doc, stored.version, stored.id, expected_version),
                )
                if changed.rowcount != 1:
                    raise MerchantConflict("the merchant changed meanwhile; try again", field="merchantId")
            conn.execute("DELETE FROM merchant_keys WHERE merchant_id = ?", (stored.id,))
            for key in stored.keys:
                try:
                    conn.execute(
                        "INSERT INTO merchant_keys (access_key_id, merchant_id) VALUES (?,?)",
                        (key.access_key_id, stored.id),
                    )
                except sqlite3.IntegrityError as exc:
                    raise MerchantConflict("this access key id is taken", field="accessKeyId") from exc
            self._add_audit(conn, audit)
            return stored

        return await self._db.write(run)
