"""Benchmark: the numpy/pure-Python scorer vs scikit-learn's predict_proba of the training pipeline.

    python bench/bench_model.py [--artifact DIR] [--seconds 40]

Trains the champion into a temporary directory (same data, spec and procedure as the
shipped artifact; the scikit-learn pipeline is needed for the comparison, and no pickle
is shipped), checks that both give the same probabilities, then measures on the same
rows, in one run:

- single-row latency (p50, p99): ``Scorer.score([row])`` (typed dict, as the credit
  service sends it) vs ``pipeline.predict_proba(one_row)``;
- batch throughput (rows/s) on the whole data set: ``Scorer.score(rows)`` (PD, score,
  grade and reasons) and ``Scorer.predict_pd(rows)`` vs ``pipeline.predict_proba(X)``.

Timing: time.perf_counter_ns around each call, many repetitions, GC disabled while
timing, the whole run bounded by --seconds. Goal: single-row p50 >= 20x faster than
scikit-learn and < 20 us.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "model" / "data" / "credit_data.csv"
SPEC = ROOT / "model" / "specs" / "credit_data.yaml"


def _lat(fn, args: list, budget_s: float, max_n: int = 200_000) -> np.ndarray:
    """Per-call latencies in ns, cycling over ``args`` until ``budget_s`` or ``max_n`` calls."""
    for a in args[:50]:  # warm-up
        fn(a)
    out = []
    pc = time.perf_counter_ns
    deadline = pc() + int(budget_s * 1e9)
    gc.disable()
    try:
        i = 0
        while i < max_n:
            a = args[i % len(args)]
            t0 = pc()
            fn(a)
            out.append(pc() - t0)
            i += 1
            if i % 256 == 0 and pc() > deadline:
                break
    finally:
        gc.enable()
    return np.asarray(out, dtype=np.float64)


def _throughput(fn, arg, n_rows: int, budget_s: float) -> float:
    fn(arg)
    best = np.inf
    deadline = time.perf_counter() + budget_s
    while True:
        t0 = time.perf_counter_ns()
        fn(arg)
        best = min(best, time.perf_counter_ns() - t0)
        if time.perf_counter() > deadline:
            break
    return n_rows / (best / 1e9)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=40.0, help="time budget for the measurements")
    ap.add_argument("--json", action="store_true", help="print the results as JSON too")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    from bnpl_model.scorer import Scorer
    from bnpl_model.train import train

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        res = train(DATA, SPEC, Path(tmp) / "art", baselines=False, plots=False, log=lambda *a: None)
        scorer = Scorer.from_path(Path(tmp) / "art")
    train_s = time.perf_counter() - t0
    pipe, X = res.pipeline, res.X
    names = scorer.feature_names
    numeric = {f["name"] for f in scorer.input_features if f["type"] == "numeric"}

    def typed(row):
        out = {}
        for n, v in zip(names, row, strict=True):
            v = v.strip()
            out[n] = (float(v) if v not in ("", "NA") else None) if n in numeric else (v or None)
        return out

    rows = [typed(r) for r in X]
    sk = pipe.predict_proba(X)[:, 1]
    fast = np.array([p["pd"] for p in scorer.score(rows)])
    max_diff = float(np.max(np.abs(sk - fast)))
    assert max_diff < 1e-9, max_diff

    budget = max(5.0, args.seconds - train_s) if args.seconds > train_s else 5.0
    b_fast, b_sk, b_batch = 0.35 * budget, 0.35 * budget, 0.3 * budget
    sample = list(range(0, len(rows), 7))
    fast_lat = _lat(lambda i: scorer.score([rows[i]]), sample, b_fast)
    sk_lat = _lat(lambda i: pipe.predict_proba(X[i : i + 1]), sample, b_sk, max_n=20_000)
    thr_score = _throughput(scorer.score, rows, len(rows), b_batch / 3)
    thr_pd = _throughput(scorer.predict_pd, rows, len(rows), b_batch / 3)
    thr_sk = _throughput(pipe.predict_proba, X, len(rows), b_batch / 3)

    def pct(a, q):
        return float(np.percentile(a, q)) / 1000.0

    r = {
        "family": scorer.family,
        "rows": len(rows),
        "max_abs_pd_diff": max_diff,
        "single_row_us": {
            "scorer": {"p50": pct(fast_lat, 50), "p99": pct(fast_lat, 99), "n": len(fast_lat)},
            "sklearn": {"p50": pct(sk_lat, 50), "p99": pct(sk_lat, 99), "n": len(sk_lat)},
        },
        "batch_rows_per_s": {"scorer.score": thr_score, "scorer.predict_pd": thr_pd, "sklearn": thr_sk},
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    s, k = r["single_row_us"]["scorer"], r["single_row_us"]["sklearn"]
    r["ratios"] = {
        "single_row_p50": k["p50"] / s["p50"],
        "single_row_p99": k["p99"] / s["p99"],
        "batch_score": thr_score / thr_sk,
        "batch_pd": thr_pd / thr_sk,
    }
    r["goal_met"] = bool(r["ratios"]["single_row_p50"] >= 20 and s["p50"] < 20)

    champion = scorer.model.get("candidate", r["family"])
    print(f"champion {champion}, {len(rows)} rows, max |pd diff| vs sklearn {max_diff:.1e}")
    print(f"{'':28s} {'scorer':>14s} {'sklearn':>14s} {'ratio':>8s}")
    print(f"{'single row p50 (us)':28s} {s['p50']:14.1f} {k['p50']:14.1f} {r['ratios']['single_row_p50']:7.0f}x")
    print(f"{'single row p99 (us)':28s} {s['p99']:14.1f} {k['p99']:14.1f} {r['ratios']['single_row_p99']:7.0f}x")
    print(f"{'batch, score() rows/s':28s} {thr_score:14,.0f} {thr_sk:14,.0f} {r['ratios']['batch_score']:7.1f}x")
    print(f"{'batch, predict_pd() rows/s':28s} {thr_pd:14,.0f} {thr_sk:14,.0f} {r['ratios']['batch_pd']:7.1f}x")
    print(f"goal (p50 >= 20x faster and < 20 us): {'met' if r['goal_met'] else 'NOT met'}")
    print(f"(single-row samples: scorer {s['n']}, sklearn {k['n']}; total {time.perf_counter() - t0:.0f} s)")
    if args.json:
        print(json.dumps(r, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
