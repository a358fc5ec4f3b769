"""The SQLite unit of work the services' embedded adapters share: one file in WAL mode, one
connection per worker thread (opened at its first call, then reused), every call one transaction.

Reads run in one deferred transaction (one snapshot; WAL readers never wait for the
writer). Writes take ``BEGIN IMMEDIATE``, so two requests cannot interleave a
read-check-write: concurrent writers of a process take turns on a lock of its own, writers of
other processes wait for the file's lock (up to ``busy_timeout``), and everything one call
writes is committed together, or rolled back when it raises.

Connections are kept, one per thread (``sqlite3`` connections belong to their thread): opening
one per call cost more than most calls (the open, the ``PRAGMA``, and above all the close of the
last connection, which checkpoints the WAL and deletes it). A kept connection is always left
outside a transaction; one whose rollback fails is closed and replaced at the next call. What
this changes is nothing a caller sees: each call is still one transaction on one snapshot,
and writers still serialise on the file's lock.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Literal, TypeVar

from bnpl_common.aio import run_blocking

T = TypeVar("T")

Synchronous = Literal["OFF", "NORMAL", "FULL", "EXTRA"]

# This thread's kept connections: the one of worker threads (every write, reads that may wait)
# and the one of a read on the event loop's thread (no busy timeout).
_WORKER, _INLINE = "conn", "inline"
# A lock held elsewhere: the read is tried again in a worker thread, where it may wait.
_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
# The write probe of readiness: a one-row table of its own, so no business table is touched.
_PROBE_SQL = (
    "CREATE TABLE IF NOT EXISTS readiness_probe (id INTEGER PRIMARY KEY CHECK (id = 1), checked_at REAL NOT NULL)"
)


class SqliteDatabase:
    """Runs functions against one SQLite file, each in its own transaction.

    ``schema_sql`` is an idempotent script (``CREATE ... IF NOT EXISTS``) run by
    :meth:`create_schema`. ``synchronous``: ``FULL`` (SQLite's default) makes every commit
    durable; ``NORMAL`` in WAL mode survives a process crash and may lose the last commits
    only on a power cut.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        schema_sql: str = "",
        busy_timeout: float = 30.0,
        synchronous: Synchronous = "FULL",
        inline_reads: bool = True,
    ) -> None:
        self.path = str(path)
        self._schema = schema_sql
        self._timeout = busy_timeout
        self._synchronous = synchronous
        self._local = threading.local()
        self._write_turn = threading.Lock()  # see run_sync
        # reads on the calling event loop's thread when they need not wait (see read)
        self._inline_reads = inline_reads and self.path != ":memory:"

    def connect(self, *, busy_timeout: float | None = None) -> sqlite3.Connection:
        """A new connection: autocommit (transactions are begun explicitly), rows by name, waiting
        up to ``busy_timeout`` seconds (the database's unless given) for a lock."""
        timeout = self._timeout if busy_timeout is None else busy_timeout
        conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA synchronous={self._synchronous}")
        return conn

    def create_schema_sync(self) -> None:
        """Create the file, its parent folders and the schema; switch WAL on (idempotent)."""
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = self.connect()
        try:
            conn.execute("PRAGMA journal_mode=WAL")  # persistent: recorded in the file
            if self._schema:
                conn.executescript(self._schema)
        finally:
            conn.close()

    async def create_schema(self) -> None:
        """:meth:`create_schema_sync` in a worker thread."""
        await run_blocking(self.create_schema_sync)

    def _kept(self, slot: str, *, busy_timeout: float | None = None) -> sqlite3.Connection:
        """This thread's kept connection in ``slot``, opened at its first use."""
        conn: sqlite3.Connection | None = getattr(self._local, slot, None)
        if conn is None:
            conn = self.connect(busy_timeout=busy_timeout)
            setattr(self._local, slot, conn)
        return conn

    def _discard(self, slot: str) -> None:
        conn: sqlite3.Connection | None = getattr(self._local, slot, None)
        setattr(self._local, slot, None)
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    def _transaction(self, slot: str, fn: Callable[[sqlite3.Connection], T], *, begin: str) -> T:
        """``fn`` in one transaction on this thread's connection in ``slot``."""
        conn = self._kept(slot, busy_timeout=0 if slot == _INLINE else None)
        try:
            conn.execute(begin)
            result = fn(conn)
            conn.execute("COMMIT")
            return result
        except BaseException:
            # fn raised, or COMMIT failed (the transaction may still be open): nothing of it
            # stays. A connection that cannot even roll back is not reused.
            try:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            except BaseException:
                self._discard(slot)
            raise

    def run_sync(self, fn: Callable[[sqlite3.Connection], T], *, write: bool) -> T:
        """Run ``fn`` in one transaction on this thread's connection, in the calling thread.

        Writers of this process take turns on a lock of ours before ``BEGIN IMMEDIATE``: waiting
        on SQLite's own lock means its busy handler, which sleeps in steps of up to 100 ms
        whether or not the lock was freed meanwhile, so writers of one process contending for
        the file added tenths of a second to the slowest requests. The lock hands the turn over
        at once; SQLite's wait (``busy_timeout``) is left for writers of other processes."""
        if write:
            with self._write_turn:
                return self._transaction(_WORKER, fn, begin="BEGIN IMMEDIATE")
        return self._transaction(_WORKER, fn, begin="BEGIN")

    def close_thread_connection(self) -> None:
        """Close the calling thread's kept connections, if any (tests; shutdown)."""
        self._discard(_WORKER)
        self._discard(_INLINE)

    async def read(self, fn: Callable[[sqlite3.Connection], T], *, scan: bool = False) -> T:
        """Run ``fn`` in a read transaction (one consistent snapshot).

        A lookup (``scan=False``: a key or a few rows by an index) runs on the calling (event
        loop's) thread when the snapshot can be had at once: a WAL reader never waits for the
        writer, such a read takes microseconds, and handing it to a thread and back cost more
        than the read (about a tenth of a decision's CPU in the credit service went to the
        hand-offs). The loop's connection never waits: it has no busy timeout, so the rare
        moment a read would have to (the WAL being reset or recovered by another connection)
        raises ``SQLITE_BUSY`` at once and the read runs again in a worker thread, where
        waiting blocks nobody. A read that may decode many rows (``scan=True``: a list, a
        queue, a count) runs in a worker thread, so that it never stops the other requests.
        Writes always run in a worker thread: ``BEGIN IMMEDIATE`` may wait for another
        writer, and a commit waits for the disk.
        """
        if self._inline_reads and not scan:
            try:
                # the loop thread's own connection, with no busy timeout: it never waits
                return self._transaction(_INLINE, fn, begin="BEGIN")
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode & 0xFF not in _BUSY_CODES:  # the primary code of an extended one
                    raise
        return await run_blocking(self.run_sync, fn, write=False)

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in a write transaction: all of it is committed or, if it raises, none of it."""
        return await run_blocking(self.run_sync, fn, write=True)

    def writable_sync(self, *, busy_timeout: float = 5.0) -> bool:
        """Whether a write can be committed now (readiness): one tiny write to a probe table,
        committed. ``BEGIN IMMEDIATE`` and a rollback would not do: in WAL mode a rolled-back
        transaction never reaches the disk, so a full disk or a file that cannot be written
        would pass. The commit appends one page to the WAL, which checkpoints reclaim."""
        try:
            conn = self.connect(busy_timeout=busy_timeout)
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    conn.execute(_PROBE_SQL)
                    conn.execute("INSERT OR REPLACE INTO readiness_probe (id, checked_at) VALUES (1, julianday('now'))")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            finally:
                conn.close()
        except sqlite3.Error:
            return False
        return True

    async def writable(self) -> bool:
        """:meth:`writable_sync` in a worker thread."""
        return await run_blocking(self.writable_sync)
