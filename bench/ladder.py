"""The benchmark ladder: what a decision costs, against a bare FastAPI hello world, in one run.

    .venv/bin/python bench/ladder.py [--duration 10] [--connections 16] [--quick]

Rungs, all against real processes on 127.0.0.1 and measured in the same run:

1. a bare FastAPI hello world served by uvicorn as the services are (``bench/hello.py``);
2. a GraphQL read (``me``) through the gateway and the user service;
3. ``applyForCredit`` (gateway -> user -> credit -> model over HTTP, SQLite) at fixed
   concurrencies, closed loop, driven by wrk with ``bench/wrk/graphql.lua``, each request for a
   checkout session that the merchant's server created through the merchant API (SigV4) before
   the rung: sessions are made outside the measured window, and their own cost (wall time and
   the credit service's CPU per session) is measured and reported apart;
4. ``applyForCredit`` at fixed arrival rates (fractions of the best closed-loop rate), open
   loop: requests leave on a fixed schedule whether or not earlier ones have answered, and each
   latency is measured from its scheduled start, so a stall is not hidden (no coordinated
   omission).

For each rung: requests/s, p50, p99, and CPU milliseconds per request for each process of the
platform (user + system time from ``/proc/<pid>/stat``, from the start of the load until the
processes are idle again, so what a load leaves behind (events relayed, webhooks delivered) is
counted in it), and the ratio of the
decision rate to the hello world's. Every response is checked (HTTP status, GraphQL errors,
decision outcome): a decision is an answer whose status is APPROVED, DECLINED or REFERRED, and
the outcomes are counted per rung; anything else is an error, and a rung with errors (or one that
ran out of sessions) is reported as failed, not as fast. The table is printed
and written as JSON under ``bench/results/`` with a description of the machine, plus a plot of
latency against arrival rate.

Numbers from a shared 2-core machine move between runs: compare the ratios within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bnpl_common.testing import free_port  # noqa: E402
from bnpl_credit.testing import MerchantClient, checkout_body  # noqa: E402

from bench.bench_decision import shoppers  # noqa: E402
from bench.hello import serve as serve_hello  # noqa: E402
from scripts.devstack import DEFAULT_ARTIFACT, Ports, Stack  # noqa: E402

LUA = ROOT / "bench" / "wrk" / "graphql.lua"
RESULTS = ROOT / "bench" / "results"
CLK_TCK = os.sysconf("SC_CLK_TCK")
# Pay in 4 of 10.00: small enough that each shopper's line holds a few hundred approvals.
AMOUNT = 1_000
# The seeded merchant whose market is EUR (`make run`, the test stacks).
MERCHANT = "demo-shop"
DECISIONS = ("APPROVED", "DECLINED", "REFERRED")

APPLY = (
    "mutation A($input: CreditApplicationInput!, $key: String!) { "
    "applyForCredit(input: $input, idempotencyKey: $key) { id status riskGrade } }"
)


@dataclass
class Rung:
    name: str
    kind: str  # "closed" (wrk, N connections) or "open" (fixed arrival rate)
    load: float  # connections, or requests per second offered
    requests: int = 0
    seconds: float = 0.0
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    failures: int = 0
    failure_reasons: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    cpu_ms_per_request: dict[str, float] = field(default_factory=dict)

    @property
    def cpu_total_ms(self) -> float:
        return sum(self.cpu_ms_per_request.values())


def start_stack(data_dir: Path, env: dict[str, str]) -> Stack:
    """The platform on free ports, with the demo merchant's server (its own free port) so that
    the merchant's webhooks are delivered once each, as in production: without a listener, every
    approval's ``checkout.approved`` webhook is retried for hours, and those retries (about 70 ms
    of the credit service's CPU a second after a few hundred decisions) would be counted as the
    decisions' cost. The merchant's process is not the platform's: see :func:`platform_pids`."""
    ports = Ports(
        gateway=free_port(),
        user=free_port(),
        credit=free_port(),
        model=free_port(),
        cognito=free_port(),
        demo_merchant=free_port(),
    )
    return Stack(data_dir=data_dir, ports=ports, extra_env=env, demo_merchant=True).start()


# Traces are recorded as deployed: CloudFormation's TraceSampleRatio keeps 5 % of new traces
# (``make run`` keeps all of them, for a developer reading one request's tree).
DEPLOYED_TRACE_SAMPLE_RATIO = "0.05"


def stack_env() -> dict[str, str]:
    """The platform's settings in the benchmarks: the model over HTTP, as in AWS, and its trace
    sampling; logs at WARNING (the access log of every request is not what is measured)."""
    return {
        "SCORER": "http",
        "MODEL_ARTIFACT_DIR": str(DEFAULT_ARTIFACT),
        "LOG_LEVEL": "WARNING",
        "OTEL_TRACES_SAMPLER_ARG": DEPLOYED_TRACE_SAMPLE_RATIO,
    }


def platform_pids(stack: Stack) -> dict[str, int]:
    """The platform's processes, whose CPU a rung counts (not the merchant's server)."""
    return {
        name: svc.proc.pid for name, svc in stack.services.items() if svc.proc is not None and name != "demo_merchant"
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far, from /proc (fields 14 and 15 of stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def settle(pids: dict[str, int], *, idle_share: float = 0.03, longest: float = 20.0) -> None:
    """Wait until the processes are idle (together under ``idle_share`` of a core over half a
    second, or ``longest`` seconds): what a load leaves behind (the outbox relay publishing its
    events, webhooks delivered, the lake written) is that load's work, not the next one's."""
    deadline = time.monotonic() + longest
    while time.monotonic() < deadline:
        before = sum(cpu_seconds(pid) for pid in pids.values())
        time.sleep(0.5)
        if sum(cpu_seconds(pid) for pid in pids.values()) - before < idle_share * 0.5:
            return


@contextmanager
def cpu_meter(pids: dict[str, int]) -> Iterator[dict[str, float]]:
    """CPU used by each process from the start of a load until the processes are idle again
    after it (see :func:`settle`), so the background work a load causes is counted in it."""
    used: dict[str, float] = {}
    settle(pids)
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    yield used
    settle(pids)
    for name, pid in pids.items():
        used[name] = cpu_seconds(pid) - before[name]


@dataclass
class SessionCost:
    """What creating checkout sessions cost, measured apart from the rungs they feed."""

    sessions: int = 0
    seconds: float = 0.0
    credit_cpu_s: float = 0.0

    def add(self, sessions: int, seconds: float, credit_cpu_s: float) -> None:
        self.sessions += sessions
        self.seconds += seconds
        self.credit_cpu_s += credit_cpu_s

    def summary(self) -> dict[str, float]:
        n = max(1, self.sessions)
        return {
            "sessions": self.sessions,
            "per_second": self.sessions / self.seconds if self.seconds else 0.0,
            "credit_cpu_ms_per_session": 1000 * self.credit_cpu_s / n,
        }


class Sessions:
    """Checkout sessions created as a merchant's server creates them (``POST
    /v1/merchant/checkouts``, SigV4 with the seeded merchant's key), a few threads at a time,
    before the rung that uses them; each token is used by one decision."""

    def __init__(self, stack: Stack, pids: dict[str, int], directory: Path, *, threads: int = 4) -> None:
        self.credit_url = stack.url("credit")
        self.credentials = json.loads(stack.merchants_file.read_text())[MERCHANT]
        self.origin = str(self.credentials["origins"][0])
        self.credit_pid = pids["credit"]
        self.directory = directory
        self.threads = threads
        self.cost = SessionCost()
        self._made = 0

    def _create(self, count: int) -> list[str]:
        client = MerchantClient(self.credit_url, self.credentials)
        tokens = []
        for _ in range(count):
            response = client.create_checkout(checkout_body(AMOUNT, "EUR", origin=self.origin))
            if response.status_code != 201:
                raise RuntimeError(f"the merchant API refused a session: {response.status_code} {response.text}")
            tokens.append(str(response.json()["checkoutToken"]))
        client.client.close()
        return tokens

    def make(self, count: int) -> list[str]:
        shares = [count // self.threads + (1 if i < count % self.threads else 0) for i in range(self.threads)]
        began, cpu = time.perf_counter(), cpu_seconds(self.credit_pid)
        with ThreadPoolExecutor(self.threads) as pool:
            tokens = [t for part in pool.map(self._create, [n for n in shares if n]) for t in part]
        self.cost.add(len(tokens), time.perf_counter() - began, cpu_seconds(self.credit_pid) - cpu)
        return tokens

    def file(self, count: int) -> dict[str, str]:
        """``count`` new sessions in a file, as the wrk script's environment."""
        self._made += 1
        path = self.directory / f"sessions-{self._made}.txt"
        path.write_text("\n".join(self.make(count)) + "\n")
        return {"BENCH_SESSIONS": str(path)}


def wrk_threads(connections: int) -> int:
    return max(1, min(2, connections))


def run_wrk(url: str, *, connections: int, seconds: int, env: dict[str, str]) -> dict[str, Any]:
    threads = wrk_threads(connections)
    result = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(LUA), url],
        env={**os.environ, **env, "BENCH_THREADS": str(threads)},
        capture_output=True,
        text=True,
        check=True,
    )
    match = re.search(r"^WRK_JSON (.*)$", result.stdout, re.MULTILINE)
    if not match:
        raise RuntimeError(f"wrk printed no result:\n{result.stdout}\n{result.stderr}")
    return json.loads(match.group(1))


def closed_rung(
    name: str, url: str, pids: dict[str, int], *, connections: int, seconds: int, env: dict[str, str]
) -> Rung:
    with cpu_meter(pids) as used:
        out = run_wrk(url, connections=connections, seconds=seconds, env=env)
    rung = Rung(name, "closed", connections)
    rung.requests = out["requests"]
    rung.seconds = out["duration_us"] / 1e6
    rung.rps = rung.requests / rung.seconds
    rung.p50_ms = out["p50_us"] / 1000
    rung.p99_ms = out["p99_us"] / 1000
    rung.failures = out["failures"] + out["exhausted"] + out["socket_errors"]
    rung.failure_reasons = {
        k: v
        for k, v in {
            "error": out["failures"],
            "sessions exhausted": out["exhausted"],
            "socket": out["socket_errors"],
        }.items()
        if v
    }
    rung.outcomes = {k: v for k, v in out["outcomes"].items() if v}
    rung.cpu_ms_per_request = {k: 1000 * v / max(1, rung.requests) for k, v in used.items()}
    return rung


def decision_rung(
    name: str,
    url: str,
    pids: dict[str, int],
    sessions: Sessions,
    *,
    connections: int,
    seconds: int,
    rate: float,
    env: dict[str, str],
) -> Rung:
    """A closed-loop ``applyForCredit`` rung. A closed loop sends as fast as it is answered, so
    it gets sessions for well over ``rate`` (the best decision rate seen so far); a rung that
    still runs out is run again with twice as many (its reads must not pass for decisions)."""
    need = int(2.5 * rate * seconds) + 100
    for _ in range(3):
        rung = closed_rung(
            name,
            url,
            pids,
            connections=connections,
            seconds=seconds,
            env={**env, **sessions.file(need), "BENCH_MODE": "apply"},
        )
        if "sessions exhausted" not in rung.failure_reasons:
            break
        need *= 2
    return rung


class OpenLoop:
    """An open-loop HTTP/1.1 load generator on raw asyncio streams (cheap enough to share two
    cores with the platform): a request leaves at each scheduled instant on an idle keep-alive
    connection, or a new one; latency counts from the scheduled instant."""

    def __init__(self, host: str, port: int, tokens: list[str], sessions: list[str]) -> None:
        self.host, self.port, self.tokens = host, port, tokens
        self.sessions = sessions
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.latencies: list[float] = []
        self.failures = 0
        self.reasons: collections.Counter[str] = collections.Counter()
        self.outcomes: collections.Counter[str] = collections.Counter()
        self.sent = 0

    def _request(self) -> bytes:
        self.sent += 1
        if not self.sessions:
            raise LookupError("sessions exhausted")
        body = json.dumps(
            {
                "query": APPLY,
                "variables": {
                    "key": uuid.uuid4().hex,
                    "input": {"checkoutToken": self.sessions.pop(), "planType": "PAY_IN_4"},
                },
            }
        ).encode()
        token = self.tokens[self.sent % len(self.tokens)]
        head = (
            f"POST /graphql HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
            f"Authorization: {token}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body

    async def _exchange(self, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> tuple[bytes, bytes]:
        reader, writer = conn
        writer.write(self._request())
        status_line = await reader.readline()
        if not status_line:
            raise ConnectionResetError("closed before answering")
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        return status_line, await reader.readexactly(length)

    async def _one(self, scheduled: float) -> None:
        reused = bool(self.idle)
        conn = self.idle.pop() if reused else await asyncio.open_connection(self.host, self.port)
        try:
            try:
                status_line, body = await self._exchange(conn)
            except (ConnectionResetError, BrokenPipeError):
                if not reused:
                    raise
                # the server closed this idle keep-alive connection as we reused it (its
                # keep-alive timeout): a client artefact, not an answer; once more on a new one
                conn[1].close()
                conn = await asyncio.open_connection(self.host, self.port)
                status_line, body = await self._exchange(conn)
            self.latencies.append(time.perf_counter() - scheduled)
            outcome = re.search(rb'"status":"(\w+)"', body)
            if b" 200 " in status_line and b'"errors"' not in body and outcome and outcome[1].decode() in DECISIONS:
                self.outcomes[outcome[1].decode()] += 1
            else:
                self.failures += 1
                found = re.search(rb'"(?:errorType|status)":"(\w+)"', body)
                self.reasons[found.group(1).decode() if found else status_line.decode().strip()] += 1
            self.idle.append(conn)
        except LookupError as exc:
            self.failures += 1
            self.reasons[str(exc)] += 1
            self.idle.append(conn)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            self.failures += 1
            self.reasons[type(exc).__name__] += 1
            conn[1].close()

    async def run(self, rate: float, seconds: float) -> float:
        interval = 1.0 / rate
        start = time.perf_counter()
        tasks = []
        n = int(rate * seconds)
        for i in range(n):
            scheduled = start + i * interval
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self._one(scheduled)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
        for _, writer in self.idle:
            writer.close()
        return elapsed


def open_rung(
    host: str, port: int, tokens: list[str], sessions: list[str], pids: dict[str, int], *, rate: float, seconds: int
) -> Rung:
    loop = OpenLoop(host, port, tokens, sessions)
    with cpu_meter(pids) as used:
        elapsed = asyncio.run(loop.run(rate, seconds))
    rung = Rung(f"applyForCredit @ {rate:.0f}/s", "open", rate)
    rung.requests = len(loop.latencies)
    rung.seconds = elapsed
    rung.rps = rung.requests / elapsed
    lat = sorted(x * 1000 for x in loop.latencies) or [0.0]
    rung.p50_ms = statistics.median(lat)
    rung.p99_ms = lat[min(len(lat) - 1, round(0.99 * (len(lat) - 1)))]
    rung.failures = loop.failures
    rung.failure_reasons = dict(loop.reasons)
    rung.outcomes = dict(loop.outcomes)
    rung.cpu_ms_per_request = {k: 1000 * v / max(1, rung.requests) for k, v in used.items()}
    return rung


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def plot(rungs: list[Rung], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    open_rungs = [r for r in rungs if r.kind == "open"]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([r.load for r in open_rungs], [r.p50_ms for r in open_rungs], marker="o", label="p50")
    ax.plot([r.load for r in open_rungs], [r.p99_ms for r in open_rungs], marker="o", label="p99")
    ax.set_xlabel("offered decisions per second (open loop)")
    ax.set_ylabel("latency, ms")
    ax.set_title("applyForCredit latency against arrival rate")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def table(rungs: list[Rung], hello_rps: float) -> str:
    names = sorted({k for r in rungs for k in r.cpu_ms_per_request})
    head = (
        f"{'rung':<34} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} {'A/D/R':>14} {'% hello':>8} "
        + " ".join(f"{n[:8]:>8}" for n in [*names, "cpu sum"])
    )
    lines = [head, "-" * len(head)]
    for r in rungs:
        cpu = [r.cpu_ms_per_request.get(n, 0.0) for n in names]
        adr = "/".join(str(r.outcomes.get(k, 0)) for k in DECISIONS) if r.name.startswith("applyForCredit") else ""
        lines.append(
            f"{r.name:<34} {r.rps:>8.1f} {r.p50_ms:>8.1f} {r.p99_ms:>8.1f} {r.failures:>6} {adr:>14} "
            f"{100 * r.rps / hello_rps:>7.1f}% " + " ".join(f"{c:>8.2f}" for c in [*cpu, r.cpu_total_ms])
        )
    lines.append(
        "(errors: answers that are not a decision; A/D/R: decisions APPROVED/DECLINED/REFERRED; "
        "cpu columns: CPU milliseconds per request in each process, user + system)"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per rung")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections for the headline rungs")
    parser.add_argument(
        "--shoppers",
        type=int,
        default=400,
        help="shoppers the decisions are spread over (each approval holds credit for 30 minutes, so a "
        "shopper's live approvals, which every decision of theirs reads, grow with decisions per shopper)",
    )
    parser.add_argument("--quick", action="store_true", help="a short smoke run (3 s rungs, fewer of them)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk (make bench installs it where apt-get runs)")
    seconds = 3 if args.quick else args.duration
    rungs: list[Rung] = []

    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        hello_port = free_port()
        hello = serve_hello(hello_port, tmpdir / "hello.log")
        try:
            assert hello.proc is not None
            rungs.append(
                closed_rung(
                    "hello world (FastAPI)",
                    f"http://127.0.0.1:{hello_port}/",
                    {"hello": hello.proc.pid},
                    connections=args.connections,
                    seconds=seconds,
                    env={"BENCH_MODE": "hello"},
                )
            )
        finally:
            hello.stop()

        stack = start_stack(tmpdir / "data", stack_env())
        try:
            gateway = stack.url("gateway")
            pids = platform_pids(stack)
            tokens = shoppers(stack, gateway, args.shoppers)
            tokens_file = tmpdir / "tokens.txt"
            tokens_file.write_text("\n".join(tokens) + "\n")
            base_env = {"BENCH_TOKENS": str(tokens_file)}
            sessions = Sessions(stack, pids, tmpdir)
            url = f"{gateway}/graphql"
            # warm up every path once (imports, pools, SQLite pages); its rate sizes the sessions
            warm = run_wrk(url, connections=2, seconds=2, env={**base_env, **sessions.file(300), "BENCH_MODE": "apply"})
            rate = max(10.0, sum(warm["outcomes"].values()) / (warm["duration_us"] / 1e6))
            rungs.append(
                closed_rung(
                    "GraphQL read (me)",
                    url,
                    pids,
                    connections=args.connections,
                    seconds=seconds,
                    env={**base_env, "BENCH_MODE": "me"},
                )
            )
            for connections in [1, args.connections] if args.quick else [1, 4, args.connections]:
                rung = decision_rung(
                    f"applyForCredit, {connections} conn",
                    url,
                    pids,
                    sessions,
                    connections=connections,
                    seconds=seconds,
                    rate=rate,
                    env=base_env,
                )
                rungs.append(rung)
                rate = max(rate, rung.rps)
            best = max(r.rps for r in rungs if r.name.startswith("applyForCredit"))
            fractions = [0.5] if args.quick else [0.25, 0.5, 0.75, 0.9]
            for fraction in fractions:
                offered = max(1.0, fraction * best)
                rungs.append(
                    open_rung(
                        "127.0.0.1",
                        stack.ports.gateway,
                        tokens,
                        sessions.make(int(offered * seconds) + 10),
                        pids,
                        rate=offered,
                        seconds=seconds,
                    )
                )
            session_cost = sessions.cost.summary()
        finally:
            stack.stop()

    hello_rps = rungs[0].rps
    decisions = max(r.rps for r in rungs if r.kind == "closed" and r.name.startswith("applyForCredit"))
    half = min((r for r in rungs if r.kind == "open"), key=lambda r: abs(r.load - 0.5 * decisions))
    headline = next(r for r in rungs if r.name == f"applyForCredit, {args.connections} conn")
    summary = {
        "decisions_per_s_over_hello": decisions / hello_rps,
        "cpu_ms_per_decision": headline.cpu_total_ms,
        "p99_ms_at_half_rate": half.p99_ms,
        "checkout_sessions": session_cost,
        "goals": {"ratio_at_least": 0.10, "cpu_ms_at_most": 4.0, "p99_ms_at_most": 50.0},
    }
    print()
    print(table(rungs, hello_rps))
    print()
    print(
        f"decisions/s over hello: {100 * summary['decisions_per_s_over_hello']:.1f}% (goal >= 10%); "
        f"CPU per decision: {summary['cpu_ms_per_decision']:.1f} ms (goal <= 4); "
        f"p99 at ~half rate ({half.load:.0f}/s): {summary['p99_ms_at_half_rate']:.1f} ms (goal <= 50)"
    )
    cost = summary["checkout_sessions"]
    print(
        f"checkout sessions (created by the merchant API before each rung, not in its figures): "
        f"{cost['sessions']} at {cost['per_second']:.0f}/s, "
        f"{cost['credit_cpu_ms_per_session']:.2f} ms of credit CPU each"
    )
    # Closed-loop rungs never offer more than the platform answers, so any error there is a
    # defect. Open-loop rungs may offer more than it sustains: what it then sheds (an error such
    # as DependencyFailed when a service is late; a scorer timeout is a REFERRED decision) is
    # reported, not a defect.
    failed = [f"{r.name} {r.failure_reasons or r.failures}" for r in rungs if r.failures and r.kind == "closed"]
    for r in rungs:
        if r.failures and r.kind == "open":
            print(f"shed at {r.name}: {r.failure_reasons}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = RESULTS / f"ladder-{stamp}.json"
    out.write_text(
        json.dumps(
            {"machine": machine(), "rungs": [asdict(r) for r in rungs], "summary": summary, "failed_rungs": failed},
            indent=2,
        )
        + "\n"
    )
    plot(rungs, RESULTS / f"ladder-{stamp}.png")
    print(f"written: {out.relative_to(ROOT)} and its .png")
    if failed:
        sys.exit(f"rungs with failed or unexpected answers: {failed}")


if __name__ == "__main__":
    main()
