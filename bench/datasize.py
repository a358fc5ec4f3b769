"""Does a decision cost more when more is stored? CPU per decision with small and with grown
credit tables, in one run.

    .venv/bin/python bench/datasize.py [--rows 1000000] [--per-customer 1000] [--seconds 8]

Starts two stacks (SQLite) side by side, each with its own shoppers, and grows the second one's
credit database by writing rows straight into its SQLite file (it runs in WAL mode, so the
service keeps answering): ``--per-customer`` earlier applications for every benchmark shopper
(ended ones: expired, as most are) and other customers' applications and decision records up to
``--rows`` in each table, copied from real ones by SQL (a million rows in about a minute). Then
it measures CPU per decision in each process with wrk (as the ladder does), alternating between
the two stacks ``--repeat`` times, so that a change in the shared machine's speed hits both
alike, and prints the ratio of the lowest of each. Written as JSON under ``bench/results/``.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from bench.bench_decision import shoppers  # noqa: E402
from bench.ladder import (  # noqa: E402
    RESULTS,
    Rung,
    Sessions,
    decision_rung,
    machine,
    platform_pids,
    run_wrk,
    stack_env,
    start_stack,
)
from scripts.devstack import Stack  # noqa: E402


def grow(db_path: Path, *, rows: int, per_customer: int) -> dict[str, int]:
    """Copy real rows under new ids: ``per_customer`` ended applications for each customer who
    has one, then other customers' applications and decision records up to ``rows`` each."""
    conn = sqlite3.connect(db_path, timeout=60, isolation_level=None)
    try:
        customers = [r[0] for r in conn.execute("SELECT DISTINCT customer_id FROM applications")]
        conn.execute("BEGIN IMMEDIATE")
        for customer in customers:
            have = conn.execute("SELECT COUNT(*) FROM applications WHERE customer_id = ?", (customer,)).fetchone()[0]
            conn.execute(
                """WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
                INSERT INTO applications (id, customer_id, created_at, status, expires_at, doc)
                SELECT 'old-' || ? || '-' || i, a.customer_id, '2025-01-01T00:00:00.000000Z', 'EXPIRED',
                       '2025-01-02T00:00:00.000000Z', a.doc
                FROM n, (SELECT * FROM applications WHERE customer_id = ? LIMIT 1) a""",
                (max(0, per_customer - have), customer, customer),
            )
        conn.execute("COMMIT")
        for table, insert in (
            (
                "applications",
                """INSERT INTO applications (id, customer_id, created_at, status, expires_at, doc)
                SELECT 'bulk-' || i, 'other-' || (i % 100000), a.created_at, 'DECLINED', NULL, a.doc""",
            ),
            (
                "decisions",
                """INSERT INTO decisions (application_id, customer_id, created_at, record)
                SELECT 'bulk-' || i, 'other-' || (i % 100000), d.created_at, d.record""",
            ),
        ):
            have = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608 - fixed names
            source = "applications" if table == "applications" else "decisions"
            pick = (
                "(SELECT * FROM applications LIMIT 1) a"
                if source == "applications"
                else "(SELECT * FROM decisions LIMIT 1) d"
            )
            todo = max(0, rows - have)
            step = 100_000
            for start in range(0, todo, step):
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    f"""WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i < ?)
                    {insert} FROM n, {pick}""",  # noqa: S608 - fixed SQL
                    (start, min(todo, start + step) - 1),
                )
                conn.execute("COMMIT")
        return {
            table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608 - fixed names
            for table in ("applications", "decisions", "plans", "idempotency")
        }
    finally:
        conn.close()


@dataclass
class Bench:
    """One stack with its shoppers and checkout sessions, measured by :meth:`measure`."""

    label: str
    stack: Stack
    pids: dict[str, int]
    sessions: Sessions
    url: str
    wrk_env: dict[str, str]
    rate: float
    rungs: list[Rung] = field(default_factory=list)

    @classmethod
    def start(cls, label: str, directory: Path, shopper_count: int) -> Bench:
        stack = start_stack(directory / "data", stack_env())
        try:
            gateway = stack.url("gateway")
            pids = platform_pids(stack)
            tokens_file = directory / "tokens.txt"
            tokens_file.write_text("\n".join(shoppers(stack, gateway, shopper_count)) + "\n")
            wrk_env = {"BENCH_TOKENS": str(tokens_file), "BENCH_MODE": "apply"}
            sessions = Sessions(stack, pids, directory)
            url = f"{gateway}/graphql"
            warm = run_wrk(url, connections=2, seconds=2, env={**wrk_env, **sessions.file(300)})
            rate = max(10.0, sum(warm["outcomes"].values()) / (warm["duration_us"] / 1e6))
        except BaseException:
            stack.stop()
            raise
        return cls(label, stack, pids, sessions, url, wrk_env, rate)

    def measure(self, *, connections: int, seconds: int) -> Rung:
        rung = decision_rung(
            self.label,
            self.url,
            self.pids,
            self.sessions,
            connections=connections,
            seconds=seconds,
            rate=self.rate,
            env=self.wrk_env,
        )
        self.rate = max(self.rate, rung.rps)
        print(
            f"{self.label:<14} {rung.rps:7.1f} req/s  errors {rung.failures} {rung.outcomes} "
            f"cpu/decision {rung.cpu_total_ms:6.2f} ms "
            f"{ {k: round(v, 2) for k, v in rung.cpu_ms_per_request.items()} }",
            flush=True,
        )
        self.rungs.append(rung)
        return rung


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--per-customer", type=int, default=1_000)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=4)
    # enough that a shopper's live approvals (held 30 minutes, read by each of their decisions)
    # stay a few dozen over the runs: what differs between the two stacks is then the tables
    parser.add_argument("--shoppers", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        (tmpdir / "small").mkdir()
        (tmpdir / "grown").mkdir()
        small = Bench.start("small tables", tmpdir / "small", args.shoppers)
        try:
            grown = Bench.start("grown tables", tmpdir / "grown", args.shoppers)
            try:
                grown.measure(connections=args.connections, seconds=args.seconds)  # its shoppers' first applications
                started = time.perf_counter()
                counts = grow(grown.stack.data_dir / "credit.sqlite3", rows=args.rows, per_customer=args.per_customer)
                print(f"grown in {time.perf_counter() - started:.0f} s: {counts}", flush=True)
                grown.rungs.clear()
                for _ in range(args.repeat):  # alternating, so that the machine's drift hits both
                    small.measure(connections=args.connections, seconds=args.seconds)
                    grown.measure(connections=args.connections, seconds=args.seconds)
            finally:
                grown.stack.stop()
        finally:
            small.stack.stop()

    def best(rungs: list[Rung], process: str | None = None) -> float:
        return min(r.cpu_ms_per_request.get(process, 0.0) if process else r.cpu_total_ms for r in rungs)

    ratio = best(grown.rungs) / best(small.rungs)
    credit_ratio = best(grown.rungs, "credit") / best(small.rungs, "credit")
    print(
        f"CPU per decision, grown over small (lowest of {args.repeat} each, alternating): {ratio:.2f} "
        f"(goal: within 1.20); the credit service's alone: {credit_ratio:.2f}"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"datasize-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    out.write_text(
        json.dumps(
            {
                "machine": machine(),
                "rows": counts,
                "per_customer": args.per_customer,
                "shoppers": args.shoppers,
                "small": [r.__dict__ for r in small.rungs],
                "grown": [r.__dict__ for r in grown.rungs],
                "ratio": ratio,
                "credit_ratio": credit_ratio,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"written: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
