"""Retraining from the platform's own outcomes: a challenger, its comparison with the champion
on the same out-of-time window, and a promotion report.

``bnpl_model retrain --lake DIR --registry DIR --spec SPEC`` (see ``cli.py``):

1. the labelled outcomes in the lake (:mod:`bnpl_model.lake`), oldest first;
2. the newest ``oot_fraction`` of them is the out-of-time window; the challenger is trained on the
   rows before it by the same trainer as the champion (:func:`bnpl_model.train.train`, the same
   candidates, selection and fairness mitigation);
3. champion and challenger score the window: AUC, Brier score, calibration (mean PD against the
   bad rate, by PD band), the fairness table's lowest adverse impact ratio over age bands at the
   policy cut-off, and the population stability of each model's scores against its own training
   distribution;
4. both are registered, the report is written next to the challenger (``report.md``,
   ``report.json``); nothing is promoted: ``bnpl_model promote`` does that, explicitly.

The report states its sample sizes and says when they are too small to conclude anything: the
test of this loop asserts that it runs and that the report is honest, not that the challenger wins.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sklearn.metrics import brier_score_loss, roc_auc_score

from bnpl_model import registry as reg
from bnpl_model.lake import Outcome, outcomes
from bnpl_model.scorer import Scorer, population_stability_index
from bnpl_model.spec import load_spec
from bnpl_model.train import train

MIN_BAD_FOR_CONCLUSION = 30  # fewer bads in the window than this: the report concludes nothing


class NotEnoughOutcomes(ValueError):
    pass


def _write_csv(path: Path, rows: list[Outcome], spec: dict[str, Any]) -> None:
    names = list(spec["features"])
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([spec["target"], *names])
        good = next(v for v in ("good", "0", "no") if v != spec["bad_value"])
        for row in rows:
            writer.writerow(
                [
                    spec["bad_value"] if row.bad else good,
                    *("" if row.features.get(n) is None else row.features[n] for n in names),
                ]
            )


def _lake_spec(spec_path: str | Path, names: set[str]) -> dict[str, Any]:
    """The champion's spec, without fairness columns the lake does not hold (it holds model inputs only)."""
    raw = yaml.safe_load(Path(spec_path).read_text(encoding="utf-8"))
    raw["fairness"] = {k: v for k, v in (raw.get("fairness") or {}).items() if k in names}
    if raw.get("mitigation") and raw["mitigation"].get("attribute") not in raw["fairness"]:
        raw.pop("mitigation")
    return raw


def _age_bands(spec: dict[str, Any]) -> list[float]:
    return [float(b) for b in (spec.get("fairness", {}).get("Age") or {}).get("bands", [])]


def lowest_air(ages: np.ndarray, pd: np.ndarray, cutoff: float, bands: list[float], min_n: int = 10) -> dict[str, Any]:
    """Approval rate of each age band at the cut-off against the best band's; the lowest ratio."""
    if not bands:
        return {"lowest": None, "bands": []}
    edges = [-math.inf, *bands[1:], math.inf]
    rows: list[dict[str, Any]] = []
    for lo, hi in itertools.pairwise(edges):
        member = (ages >= lo) & (ages < hi)
        n = int(member.sum())
        label = f"under {hi:g}" if lo == -math.inf else f"{lo:g} and over" if hi == math.inf else f"{lo:g}-{hi - 1:g}"
        if n:
            rows.append({"band": label, "n": n, "approval_rate": float((pd[member] <= cutoff).mean())})
    counted = [r for r in rows if r["n"] >= min_n]
    best = max((float(r["approval_rate"]) for r in counted), default=0.0)
    for r in rows:
        r["air"] = float(r["approval_rate"]) / best if best > 0 and r["n"] >= min_n else None
    ratios = [float(r["air"]) for r in rows if r["air"] is not None]
    return {"lowest": min(ratios) if ratios else None, "bands": rows}


def calibration(y: np.ndarray, pd: np.ndarray, bins: int = 5) -> list[dict[str, Any]]:
    order = np.argsort(pd)
    out = []
    for part in np.array_split(order, min(bins, max(1, len(order)))):
        if len(part):
            out.append({"n": len(part), "mean_pd": float(pd[part].mean()), "bad_rate": float(y[part].mean())})
    return out


def _auc(y: np.ndarray, pd: np.ndarray) -> float | None:
    return float(roc_auc_score(y, pd)) if 0 < y.sum() < len(y) else None


def _bootstrap_auc_diff(
    y: np.ndarray, a: np.ndarray, b: np.ndarray, rounds: int = 500, seed: int = 0
) -> list[float] | None:
    """A 90 % bootstrap interval of AUC(b) - AUC(a) over the window's rows."""
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(rounds):
        i = rng.integers(0, len(y), len(y))
        if 0 < y[i].sum() < len(i):
            diffs.append(roc_auc_score(y[i], b[i]) - roc_auc_score(y[i], a[i]))
    if len(diffs) < rounds // 2:
        return None
    return [float(np.percentile(diffs, 5)), float(np.percentile(diffs, 95))]


def evaluate_model(scorer: Scorer, rows: list[Outcome], spec: dict[str, Any]) -> dict[str, Any]:
    preds = scorer.score([r.features for r in rows])
    pd = np.asarray([p["pd"] for p in preds], dtype=np.float64)
    scores = [float(p["score"]) for p in preds]
    y = np.asarray([int(r.bad) for r in rows], dtype=np.int64)
    ages = np.asarray([float(r.features.get("Age", np.nan)) for r in rows], dtype=np.float64)
    cutoff = float(spec["policy"]["cutoff_pd"])
    baseline = scorer.model.get("psi_baseline")
    return {
        "model_version": scorer.model_version,
        "auc": _auc(y, pd),
        "brier": float(brier_score_loss(y, pd)) if len(y) else None,
        "mean_pd": float(pd.mean()) if len(pd) else None,
        "bad_rate": float(y.mean()) if len(y) else None,
        "calibration": calibration(y, pd),
        "fairness": lowest_air(ages, pd, cutoff, _age_bands(spec)),
        "psi": population_stability_index(baseline, scores) if baseline and scores else None,
        "_pd": pd,
    }


def retrain(
    lake: str | Path,
    *,
    registry: str | Path,
    spec_path: str | Path,
    champion_dir: str | Path | None = None,
    oot_fraction: float = 0.3,
    name: str = "credit-scorecard-retrained",
    min_rows: int = 50,
    min_bad: int = 5,
    as_of: dt.datetime | None = None,
    log: Any = print,
) -> dict[str, Any]:
    rows = outcomes(lake, as_of=as_of)
    if not 0.05 <= oot_fraction <= 0.5:
        raise ValueError("oot_fraction must be between 0.05 and 0.5")
    n_window = max(1, round(len(rows) * oot_fraction))
    development, window = rows[:-n_window], rows[-n_window:]
    dev_bad = sum(r.bad for r in development)
    if len(development) < min_rows or min(dev_bad, len(development) - dev_bad) < min_bad:
        raise NotEnoughOutcomes(
            f"{len(rows)} labelled outcomes ({sum(r.bad for r in rows)} bad): too few to train a challenger"
            f" (the development part needs at least {min_rows} rows and {min_bad} of each outcome)"
        )
    registry = Path(registry)
    index = reg.load(registry)
    if champion_dir is None:
        champion_dir = reg.champion_dir(registry)
    champion_version = reg.register(registry, champion_dir, role="champion")
    if index["champion"] is None:
        reg.promote(registry, champion_version, reason="initial champion, registered by the first retrain")

    raw_spec = _lake_spec(spec_path, set(rows[0].features))
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        spec_file = tmp_path / "spec.yaml"
        spec_file.write_text(yaml.safe_dump(raw_spec, sort_keys=False), encoding="utf-8")
        spec = load_spec(spec_file)
        data_file = tmp_path / "development.csv"
        _write_csv(data_file, development, spec)
        out = tmp_path / "challenger"
        folds = max(2, min(int(spec["selection"]["folds"]), dev_bad, len(development) - dev_bad))
        result = train(data_file, spec_file, out, name=name, folds=folds, baselines=False, plots=False, log=log)
        challenger_version = reg.register(registry, out, role="challenger")
    challenger = Scorer.from_path(reg.version_dir(registry, challenger_version))
    champion = Scorer.from_path(reg.version_dir(registry, champion_version))
    ch = evaluate_model(champion, window, spec)
    cl = evaluate_model(challenger, window, spec)
    y = np.asarray([int(r.bad) for r in window])
    interval = _bootstrap_auc_diff(y, ch.pop("_pd"), cl.pop("_pd")) if 0 < y.sum() < len(y) else None
    window_bad = int(y.sum())
    conclusive = window_bad >= MIN_BAD_FOR_CONCLUSION and len(window) - window_bad >= MIN_BAD_FOR_CONCLUSION
    if not conclusive:
        verdict = (
            f"Inconclusive: the out-of-time window has {window_bad} bad and {len(window) - window_bad} good outcomes;"
            f" at least {MIN_BAD_FOR_CONCLUSION} of each are needed before a comparison means anything."
        )
    elif interval and interval[0] > 0:
        verdict = (
            "The challenger ranks the window better than the champion (the 90 % interval of the AUC gain is above 0)."
        )
    elif interval and interval[1] < 0:
        verdict = "The champion ranks the window better; keep it."
    else:
        verdict = "No difference the window can show (the 90 % interval of the AUC difference includes 0)."
    report = {
        "createdAt": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "lake": str(lake),
        "label": "30+ days late within 90 days of the first due date",
        "outcomes": {"labelled": len(rows), "bad": sum(r.bad for r in rows)},
        "development": {
            "rows": len(development),
            "bad": dev_bad,
            "from": str(development[0].decided_at),
            "to": str(development[-1].decided_at),
        },
        "window": {
            "rows": len(window),
            "bad": window_bad,
            "from": str(window[0].decided_at),
            "to": str(window[-1].decided_at),
        },
        "champion": ch,
        "challenger": {**cl, "cv_auc": result.selection.cv[result.selection.champion]["auc_mean"]},
        "auc_difference_90": interval,
        "conclusive": conclusive,
        "verdict": verdict,
        "promote": f"python -m bnpl_model promote --registry {registry} {challenger_version} --reason '...'",
    }
    target = reg.version_dir(registry, challenger_version)
    (target / "report.json").write_text(json.dumps(report, indent=1, default=str) + "\n", encoding="utf-8")
    (target / "report.md").write_text(markdown(report), encoding="utf-8")
    return report


def _fmt(v: Any, f: str = ".4f") -> str:
    return "n/a" if v is None else format(v, f)


def markdown(r: dict[str, Any]) -> str:
    ch, cl = r["champion"], r["challenger"]
    lines = [
        "# Promotion report",
        "",
        f"Created {r['createdAt']} from the lake `{r['lake']}`. Label: {r['label']}.",
        "",
        f"Labelled outcomes: {r['outcomes']['labelled']} ({r['outcomes']['bad']} bad)."
        " The challenger was trained on the"
        f" {r['development']['rows']} oldest ({r['development']['bad']} bad, decided {r['development']['from']} to"
        f" {r['development']['to']}); both models are compared on the {r['window']['rows']} newest"
        f" ({r['window']['bad']} bad, {r['window']['from']} to {r['window']['to']}), which neither was trained on.",
        "",
        f"**Verdict:** {r['verdict']}",
        "",
        "| | champion | challenger |",
        "|---|---|---|",
        f"| model version | {ch['model_version']} | {cl['model_version']} |",
        f"| AUC on the window | {_fmt(ch['auc'])} | {_fmt(cl['auc'])} |",
        f"| Brier score | {_fmt(ch['brier'])} | {_fmt(cl['brier'])} |",
        f"| mean PD / bad rate | {_pair(ch)} | {_pair(cl)} |",
        f"| lowest age-band adverse impact ratio | {_fmt(ch['fairness']['lowest'], '.2f')}"
        f" | {_fmt(cl['fairness']['lowest'], '.2f')} |",
        f"| PSI of scores against own training | {_fmt(ch['psi'], '.3f')} | {_fmt(cl['psi'], '.3f')} |",
        "",
        f"90 % bootstrap interval of AUC(challenger) - AUC(champion): {_interval(r['auc_difference_90'])}.",
        "",
        "Calibration on the window (rows sorted by PD, five equal parts: mean PD against the observed bad rate):",
        "",
        "| part | n | champion mean PD | bad rate | challenger mean PD | bad rate |",
        "|---|---|---|---|---|---|",
    ]
    for i, (a, b) in enumerate(zip(ch["calibration"], cl["calibration"], strict=False), start=1):
        lines.append(
            f"| {i} | {a['n']} | {a['mean_pd']:.3f} | {a['bad_rate']:.3f} | {b['mean_pd']:.3f} | {b['bad_rate']:.3f} |"
        )
    lines += ["", f"Promotion is explicit and recorded: `{r['promote']}`; `bnpl_model rollback` undoes it.", ""]
    return "\n".join(lines)


def _interval(pair: list[float] | None) -> str:
    return "n/a (too few of each outcome)" if pair is None else f"[{pair[0]:+.4f}, {pair[1]:+.4f}]"


def _pair(side: dict[str, Any]) -> str:
    return f"{_fmt(side['mean_pd'], '.3f')} / {_fmt(side['bad_rate'], '.3f')}"
