"""Decision latency through the whole platform, measured on real processes.

    .venv/bin/python bench/bench_decision.py [--requests 200] [--concurrency 8]

Starts the stack (local Cognito, model server, user, credit, gateway) on free ports in a
temporary directory, prepares verified shoppers, then sends ``applyForCredit`` over
GraphQL: sequentially (latency percentiles) and from several concurrent clients
(throughput). It runs the same load twice in one run, once with the credit service
scoring over HTTP (the SageMaker contract, as deployed) and once in-process, and
reports the ratio. Numbers from a shared 2-core machine are indicative: compare ratios
from one run, not absolute figures across runs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bnpl_user.testing import last_code

from scripts.devstack import DEFAULT_ARTIFACT, Stack
from tests.journey import APPLY, CONFIRM_VERIFICATION, CREATE_PROFILE, START_VERIFICATION, good_profile

PASSWORD = "Passw0rd!bench"  # noqa: S105 - a local test user


def read_code(stack: Stack, phone: str) -> str:
    return last_code(stack.data_dir / "sms-outbox.jsonl", to=phone)


def shopper(stack: Stack, gateway: str) -> str:
    assert stack.cognito is not None
    email = f"bench-{uuid.uuid4().hex[:10]}@example.com"
    stack.cognito.sign_up(email, PASSWORD)
    token = stack.cognito.access_token(email, PASSWORD)
    profile = good_profile()

    def call(query: str, variables: dict | None = None) -> dict:
        body = httpx.post(
            f"{gateway}/graphql", json={"query": query, "variables": variables or {}}, headers={"Authorization": token}
        ).json()
        assert not body.get("errors"), body
        return body["data"]

    call(CREATE_PROFILE, {"input": profile})
    call(START_VERIFICATION)
    call(CONFIRM_VERIFICATION, {"code": read_code(stack, profile["phoneNumber"])})
    return token


def shoppers(stack: Stack, gateway: str, count: int, *, threads: int = 4) -> list[str]:
    """``count`` shoppers ready to apply (signed up, profile, verified phone), a few at a time."""
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda _: shopper(stack, gateway), range(count)))


async def run_load(
    gateway: str, tokens: list[str], sessions: list[str], requests: int, concurrency: int
) -> tuple[list[float], float]:
    """``requests`` decisions, each for one of ``sessions`` (checkout tokens a merchant created)."""
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)

    async def worker(client: httpx.AsyncClient) -> None:
        while True:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            token = tokens[i % len(tokens)]  # spread the held credit over many shoppers
            started = time.perf_counter()
            r = await client.post(
                f"{gateway}/graphql",
                json={
                    "query": APPLY,
                    "variables": {
                        "input": {"checkoutToken": sessions.pop(), "planType": "PAY_IN_4"},
                        "key": uuid.uuid4().hex,
                    },
                },
                headers={"Authorization": token},
            )
            latencies.append((time.perf_counter() - started) * 1000)
            body = r.json()
            if body.get("errors") or body["data"]["applyForCredit"]["status"] != "APPROVED":
                raise RuntimeError(f"unexpected answer: {body}")

    async with httpx.AsyncClient(timeout=30) as client:
        began = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return latencies, requests / elapsed


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def measure(scorer: str, requests: int, concurrency: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        from bench.ladder import Sessions, platform_pids, start_stack  # the ladder imports this module

        env = {"SCORER": scorer, "MODEL_ARTIFACT_DIR": str(DEFAULT_ARTIFACT), "LOG_LEVEL": "WARNING"}
        stack = start_stack(Path(tmp), env)
        try:
            gateway = stack.url("gateway")
            tokens = [shopper(stack, gateway) for _ in range(16)]
            # made before the clock starts
            sessions = Sessions(stack, platform_pids(stack), Path(tmp)).make(20 + 2 * requests)
            asyncio.run(run_load(gateway, tokens, sessions, 20, 1))  # warm up
            sequential, _ = asyncio.run(run_load(gateway, tokens, sessions, requests, 1))
            _, throughput = asyncio.run(run_load(gateway, tokens, sessions, requests, concurrency))
        finally:
            stack.stop()
    return {
        "p50_ms": statistics.median(sequential),
        "p95_ms": pct(sequential, 95),
        "p99_ms": pct(sequential, 99),
        "throughput_rps": throughput,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="decision latency through the gateway")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    results = {scorer: measure(scorer, args.requests, args.concurrency) for scorer in ("http", "inprocess")}
    print(f"\napplyForCredit through gateway -> user -> credit -> model ({args.requests} requests)\n")
    print(f"{'scorer':<10} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s @' + str(args.concurrency):>12}")
    for scorer, r in results.items():
        print(f"{scorer:<10} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['throughput_rps']:>12.1f}")
    ratio = results["http"]["p50_ms"] / results["inprocess"]["p50_ms"]
    print(f"\nratio p50 http / in-process scorer: {ratio:.2f}x (same run, same machine)")


if __name__ == "__main__":
    main()
