"""CPU cost of tracing per request: the model server's ``POST /invocations`` in process, with
``OTEL_TRACES_EXPORTER=none`` against ``file`` (every request sampled) and ``file`` at 10 %.

    .venv/bin/python bench/bench_telemetry.py [--requests 3000]

Each mode runs in its own process (the tracer provider is process-wide); CPU time is the
process's (the exporter's background thread included), divided by the requests.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARTIFACT = ROOT / "model" / "artifacts" / "credit-scorecard"

CHILD = """
import asyncio, json, sys, time
import httpx
from bnpl_model.server import create_app
from bnpl_common.telemetry import shutdown_tracing

async def main(n):
    app = create_app(sys.argv[1], configure_logs=False)
    async with app.router.lifespan_context(app):
        row = {f: 0 for f in app.state.scorer.feature_names}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://model") as client:
            for _ in range(200):
                await client.post("/invocations", json={"instances": [row]})
            cpu, wall = time.process_time(), time.perf_counter()
            for _ in range(n):
                await client.post("/invocations", json={"instances": [row]})
            shutdown_tracing()  # the exporter's work is part of the cost
            return (time.process_time() - cpu) / n, (time.perf_counter() - wall) / n

cpu, wall = asyncio.run(main(int(sys.argv[2])))
print(json.dumps({"cpu_us": cpu * 1e6, "wall_us": wall * 1e6}))
"""


def run(mode: str, ratio: str, n: int, traces: Path) -> dict[str, float]:
    env = {**os.environ, "OTEL_TRACES_EXPORTER": mode, "OTEL_TRACES_SAMPLER_ARG": ratio, "TRACES_DIR": str(traces)}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(ARTIFACT), str(n)], env=env, check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = {
            "off (none)": run("none", "1.0", args.requests, Path(tmp)),
            "file, 100 % sampled": run("file", "1.0", args.requests, Path(tmp)),
            "file, 10 % sampled": run("file", "0.1", args.requests, Path(tmp)),
        }
    base = results["off (none)"]["cpu_us"]
    for name, r in results.items():
        print(f"{name:22} CPU {r['cpu_us']:7.0f} us/request  (+{r['cpu_us'] - base:5.0f})  wall {r['wall_us']:7.0f} us")


if __name__ == "__main__":
    main()
