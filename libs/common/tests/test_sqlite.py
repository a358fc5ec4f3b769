"""The shared SQLite unit of work, on real files: commit, rollback, serialised writers, WAL."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import anyio
import pytest
from bnpl_common.sqlite import SqliteDatabase

SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY AUTOINCREMENT, note TEXT NOT NULL);
"""


@pytest.fixture
def db(tmp_path: Path) -> SqliteDatabase:
    database = SqliteDatabase(tmp_path / "nested" / "dir" / "test.sqlite3", schema_sql=SCHEMA, busy_timeout=10.0)
    anyio.run(database.create_schema)
    return database


def _count(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])  # noqa: S608 - fixed names


def test_create_schema_makes_the_folders_switches_wal_on_and_is_idempotent(db: SqliteDatabase) -> None:
    assert Path(db.path).is_file()
    db.create_schema_sync()  # again: nothing breaks, nothing is lost
    with sqlite3.connect(db.path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn = db.connect()
    try:
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL by default
    finally:
        conn.close()


def test_synchronous_is_configurable(tmp_path: Path) -> None:
    database = SqliteDatabase(tmp_path / "n.sqlite3", synchronous="NORMAL")
    database.create_schema_sync()
    conn = database.connect()
    try:
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1
    finally:
        conn.close()


def test_write_commits_and_read_sees_it(db: SqliteDatabase) -> None:
    async def scenario() -> None:
        def insert(conn: sqlite3.Connection) -> int:
            conn.execute("INSERT INTO counters VALUES ('a', 1)")
            conn.execute("INSERT INTO log (note) VALUES ('a=1')")
            return 7

        assert await db.write(insert) == 7
        row = await db.read(lambda c: c.execute("SELECT value FROM counters WHERE name = 'a'").fetchone())
        assert row["value"] == 1  # rows are addressable by column name
        assert await db.read(lambda c: _count(c, "log")) == 1

    anyio.run(scenario)


def test_an_exception_rolls_back_everything_the_call_wrote(db: SqliteDatabase) -> None:
    class Boom(Exception):
        pass

    async def scenario() -> None:
        def half_then_fail(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO counters VALUES ('a', 1)")
            conn.execute("INSERT INTO log (note) VALUES ('a=1')")
            raise Boom

        with pytest.raises(Boom):
            await db.write(half_then_fail)
        assert await db.read(lambda c: _count(c, "counters") + _count(c, "log")) == 0
        # a constraint violation is an exception like any other
        await db.write(lambda c: c.execute("INSERT INTO counters VALUES ('a', 1)"))

        def duplicate(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO log (note) VALUES ('dup')")
            conn.execute("INSERT INTO counters VALUES ('a', 2)")

        with pytest.raises(sqlite3.IntegrityError):
            await db.write(duplicate)
        assert await db.read(lambda c: _count(c, "log")) == 0

    anyio.run(scenario)


def test_concurrent_writers_are_serialised(db: SqliteDatabase) -> None:
    """Read-check-write in one write transaction: no increment is lost, even with a pause
    between the read and the write that invites interleaving."""
    anyio.run(db.write, lambda c: c.execute("INSERT INTO counters VALUES ('n', 0)"))
    inside = 0
    most_inside = 0
    guard = threading.Lock()

    def increment(conn: sqlite3.Connection) -> None:
        nonlocal inside, most_inside
        with guard:
            inside += 1
            most_inside = max(most_inside, inside)
        value = conn.execute("SELECT value FROM counters WHERE name = 'n'").fetchone()[0]
        time.sleep(0.005)
        conn.execute("UPDATE counters SET value = ? WHERE name = 'n'", (value + 1,))
        with guard:
            inside -= 1

    async def scenario() -> None:
        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(db.write, increment)

    anyio.run(scenario)
    assert anyio.run(db.read, lambda c: c.execute("SELECT value FROM counters WHERE name = 'n'").fetchone()[0]) == 20
    assert most_inside == 1  # one writer at a time


def test_a_reader_is_not_blocked_by_an_open_write(db: SqliteDatabase) -> None:
    """WAL: while a write transaction is open, a read returns the last committed state."""
    anyio.run(db.write, lambda c: c.execute("INSERT INTO counters VALUES ('n', 1)"))
    writer = db.connect()
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE counters SET value = 2 WHERE name = 'n'")
        started = time.monotonic()
        seen = anyio.run(db.read, lambda c: c.execute("SELECT value FROM counters").fetchone()[0])
        assert seen == 1 and time.monotonic() - started < 1.0
        writer.execute("COMMIT")
    finally:
        writer.close()
    assert anyio.run(db.read, lambda c: c.execute("SELECT value FROM counters").fetchone()[0]) == 2


# -- readiness: can a write be committed now? (issue 17, item 9) -------------------------------

# Run in a child process: RLIMIT_FSIZE applies to the whole process (Python ignores SIGXFSZ, so
# a write past the limit fails with EFBIG, as it fails with ENOSPC on a full disk). Another
# connection stays open, as in a busy service, so the WAL and its index exist and reads work;
# no file may grow past the WAL's size, so no write can be committed.
_DISK_FULL = """
import os, resource, sqlite3, sys
from bnpl_common.sqlite import SqliteDatabase

path = sys.argv[1]
db = SqliteDatabase(path, schema_sql="CREATE TABLE IF NOT EXISTS t (x BLOB)")
db.create_schema_sync()
held = db.connect()
held.execute("SELECT COUNT(*) FROM t").fetchone()
print("writable before:", db.writable_sync())
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (os.path.getsize(path + "-wal"), hard))
try:
    db.run_sync(lambda c: c.execute("INSERT INTO t VALUES (randomblob(100))"), write=True)
    print("write: ok")
except sqlite3.Error:
    print("write: failed")
print("select 1:", db.run_sync(lambda c: c.execute("SELECT 1").fetchone()[0] == 1, write=False))
print("read:", db.run_sync(lambda c: c.execute("SELECT COUNT(*) FROM t").fetchone()[0], write=False))
print("writable during:", db.writable_sync())
resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
print("writable after:", db.writable_sync())
"""


def test_writable_is_false_while_the_disk_refuses_writes(tmp_path: Path) -> None:
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-c", _DISK_FULL, str(tmp_path / "full.sqlite3")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert run.stdout.splitlines() == [
        "writable before: True",
        "write: failed",
        "select 1: True",  # what readiness used to ask: still fine on a full disk
        "read: 0",
        "writable during: False",
        "writable after: True",
    ], run.stderr


def test_writable_leaves_the_business_tables_alone(db: SqliteDatabase) -> None:
    assert anyio.run(db.writable) is True
    assert anyio.run(db.writable) is True  # one row, replaced
    rows = db.run_sync(lambda c: c.execute("SELECT COUNT(*) FROM readiness_probe").fetchone()[0], write=False)
    assert rows == 1
    assert db.run_sync(lambda c: _count(c, "log") + _count(c, "counters"), write=False) == 0


def test_a_thread_keeps_its_connection_and_threads_do_not_share_one(db: SqliteDatabase) -> None:
    seen: list[tuple[int, sqlite3.Connection]] = []

    def record(conn: sqlite3.Connection) -> None:
        seen.append((threading.get_ident(), conn))  # the object itself: an id could be reused

    db.run_sync(record, write=False)
    db.run_sync(record, write=True)
    worker = threading.Thread(target=db.run_sync, args=(record,), kwargs={"write": False})
    worker.start()
    worker.join()
    (t1, c1), (t2, c2), (t3, c3) = seen
    assert t1 == t2 and c1 is c2  # kept between calls
    assert t3 != t1 and c3 is not c1  # another thread, another connection


def test_a_kept_connection_is_left_outside_any_transaction_after_a_failure(db: SqliteDatabase) -> None:
    def insert_then_fail(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO counters VALUES ('x', 1)")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        db.run_sync(insert_then_fail, write=True)
    assert db.run_sync(lambda conn: conn.in_transaction, write=False) is True  # only its own
    assert db.run_sync(lambda conn: _count(conn, "counters"), write=False) == 0
    db.run_sync(lambda conn: conn.execute("INSERT INTO counters VALUES ('y', 2)"), write=True)
    with sqlite3.connect(db.path) as raw:  # committed, seen from outside
        assert raw.execute("SELECT value FROM counters WHERE name = 'y'").fetchone()[0] == 2


def test_a_connection_that_cannot_roll_back_is_replaced(db: SqliteDatabase) -> None:
    used: list[sqlite3.Connection] = []

    def break_it(conn: sqlite3.Connection) -> None:
        used.append(conn)
        conn.close()  # as if the connection died: its rollback fails too
        raise RuntimeError("broken")

    with pytest.raises(RuntimeError):
        db.run_sync(break_it, write=True)
    db.run_sync(lambda conn: used.append(conn) or conn.execute("INSERT INTO counters VALUES ('z', 3)"), write=True)
    assert used[0] is not used[1]
    assert db.run_sync(lambda conn: _count(conn, "counters"), write=False) == 1
    db.close_thread_connection()
    assert db.run_sync(lambda conn: _count(conn, "counters"), write=False) == 1


def test_a_read_runs_on_the_calling_thread_without_a_hand_off(db: SqliteDatabase) -> None:
    async def main() -> tuple[int, int]:
        await db.write(lambda c: c.execute("INSERT INTO counters VALUES ('a', 1)"))
        return await db.read(lambda c: threading.get_ident()), threading.get_ident()

    reader, caller = anyio.run(main)
    assert reader == caller


def test_a_read_that_may_decode_many_rows_runs_in_a_worker(db: SqliteDatabase) -> None:
    async def main() -> tuple[int, int]:
        return await db.read(lambda c: threading.get_ident(), scan=True), threading.get_ident()

    reader, caller = anyio.run(main)
    assert reader != caller


def test_a_read_that_would_wait_moves_to_a_worker_and_the_loop_keeps_running(db: SqliteDatabase) -> None:
    """Another connection holds the file exclusively (``locking_mode=EXCLUSIVE`` after a write):
    a read cannot start. On the loop's thread it would block every request; it runs in a worker
    thread instead, waits there for the lock, and answers once the lock is released."""
    holder = sqlite3.connect(db.path, isolation_level=None, check_same_thread=False)  # the only one open
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO counters VALUES ('a', 2)")
    holder.execute("COMMIT")  # the exclusive lock stays with `holder` until it closes
    threading.Timer(0.4, holder.close).start()

    async def main() -> tuple[int, int, int, int]:
        ticks = 0
        done = anyio.Event()

        async def tick() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await anyio.sleep(0.01)

        async with anyio.create_task_group() as tg:
            tg.start_soon(tick)
            value, reader = await db.read(
                lambda c: (c.execute("SELECT value FROM counters").fetchone()[0], threading.get_ident())
            )
            done.set()
        return value, reader, threading.get_ident(), ticks

    value, reader, caller, ticks = anyio.run(main)
    assert value == 2 and reader != caller
    assert ticks >= 10  # the loop ran other work for most of the 0.4 s the read waited


def test_writers_of_one_process_take_turns_without_sqlite_s_busy_wait(tmp_path: Path) -> None:
    """With no busy timeout at all, SQLite refuses a writer that finds the file locked. Writers
    of one process never get there: they queue on the database's own lock, which hands the turn
    over at once (SQLite's busy handler sleeps up to 100 ms between tries, whatever happens)."""
    db = SqliteDatabase(tmp_path / "turns.sqlite3", schema_sql=SCHEMA, busy_timeout=0.0)
    anyio.run(db.create_schema)
    errors: list[BaseException] = []

    def add(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO log (note) VALUES ('x')")
        time.sleep(0.002)  # hold the lock a little, as a real transaction does

    def writer() -> None:
        try:
            for _ in range(10):
                db.run_sync(add, write=True)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert anyio.run(db.read, lambda c: _count(c, "log")) == 60
