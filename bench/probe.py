"""CPU per decision in each process, quickly: the ladder's measurement without the ladder.

    .venv/bin/python bench/probe.py [--seconds 8] [--connections 4] [--repeat 3] [--mode apply]
                                    [--hold] [--env NAME=VALUE ...]

Starts the stack on free ports, prepares a few shoppers, warms every path, then runs wrk
(``bench/wrk/graphql.lua``) ``--repeat`` times and prints, for each run, requests/s and the CPU
milliseconds per request of each process (from ``/proc``). On a shared machine throughput moves
with the neighbours' load; CPU per request moves much less, so compare that. ``--hold`` keeps
the stack up after the runs (Ctrl-C stops it), for a profiler to attach.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from bench.bench_decision import shopper  # noqa: E402
from bench.ladder import Sessions, closed_rung, decision_rung, platform_pids, run_wrk, stack_env, start_stack  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--shoppers", type=int, default=16)
    parser.add_argument("--mode", default="apply", choices=["apply", "me"])
    parser.add_argument("--hold", action="store_true")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for every service")
    args = parser.parse_args()
    extra = dict(item.split("=", 1) for item in args.env)
    # `kill <pid>` of a held probe stops its stack too (SystemExit runs the finally below)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        env = {**stack_env(), **extra}
        stack = start_stack(tmpdir / "data", env)
        try:
            gateway = stack.url("gateway")
            pids = platform_pids(stack)
            print("pids", pids, flush=True)
            tokens = [shopper(stack, gateway) for _ in range(args.shoppers)]
            tokens_file = tmpdir / "tokens.txt"
            tokens_file.write_text("\n".join(tokens) + "\n")
            base_env = {"BENCH_TOKENS": str(tokens_file), "BENCH_MODE": args.mode}
            sessions = Sessions(stack, pids, tmpdir)
            url = f"{gateway}/graphql"
            warm = run_wrk(url, connections=2, seconds=2, env={**base_env, **sessions.file(300)})
            rate = max(10.0, warm["requests"] / (warm["duration_us"] / 1e6))
            for _ in range(args.repeat):
                if args.mode == "apply":
                    rung = decision_rung(
                        args.mode,
                        url,
                        pids,
                        sessions,
                        connections=args.connections,
                        seconds=args.seconds,
                        rate=rate,
                        env=base_env,
                    )
                else:
                    rung = closed_rung(
                        args.mode, url, pids, connections=args.connections, seconds=args.seconds, env=base_env
                    )
                rate = max(rate, rung.rps)
                cpu = " ".join(f"{k}={v:.2f}" for k, v in sorted(rung.cpu_ms_per_request.items()))
                print(
                    f"{rung.rps:7.1f} req/s p50 {rung.p50_ms:6.1f} p99 {rung.p99_ms:6.1f} errors {rung.failures} "
                    f"{rung.outcomes} "
                    f"cpu/req {rung.cpu_total_ms:6.2f} ms ({cpu})",
                    flush=True,
                )
            if args.hold:
                print("holding; gateway at", gateway, "tokens in", tokens_file, flush=True)
                while True:
                    time.sleep(3600)
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
