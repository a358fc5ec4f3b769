"""Readiness tells the truth: a credit store that cannot commit a write is not ready."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from bnpl_credit.storage.sqlite import SqliteStore


def test_a_store_whose_file_another_writer_locks_is_not_ready(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "credit.sqlite3")
    assert asyncio.run(store.ping())
    holder = sqlite3.connect(tmp_path / "credit.sqlite3")
    try:
        holder.execute("BEGIN EXCLUSIVE")  # no other connection can commit a write now
        # a read-only probe (SELECT 1) answered True here while every write failed
        assert not asyncio.run(store.ping())
    finally:
        holder.rollback()
        holder.close()
    assert asyncio.run(store.ping())
