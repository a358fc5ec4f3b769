"""Train a WoE scorecard from any CSV + spec, write a JSON artifact (no pickle).

Pipeline (sklearn): ``WoEEncoder`` (derived features, quantile / category bins
with a missing bin, monotone merging, weight of evidence) -> ``ScorecardLogit``
(logistic regression on the WoE columns, features whose coefficient would have
the wrong sign are dropped and the model refitted).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline

from bnpl_model import expr as expr_mod
from bnpl_model.scorer import reason_code, to_category, to_float
from bnpl_model.spec import load_spec

OTHER = "__other__"


# --------------------------------------------------------------------------- data


def input_features(spec: dict[str, Any]) -> list[tuple[str, str]]:
    return [(name, f["type"]) for name, f in spec["features"].items()]


def load_dataset(path: str | Path, spec: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Read the CSV: X as an object array (columns = spec input features), y (1 = bad)."""
    feats = input_features(spec)
    rows_x: list[list[Any]] = []
    ys: list[int] = []
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        for col in [spec["target"], *(n for n, _ in feats)]:
            if col not in header:
                raise ValueError(f"column {col!r} not in {path}")
        for row in reader:
            ys.append(int(row[spec["target"]].strip() == spec["bad_value"]))
            rows_x.append([row[n] for n, _ in feats])
    X = np.empty((len(rows_x), len(feats)), dtype=object)
    X[:] = rows_x
    y = np.asarray(ys, dtype=np.int64)
    if y.min() == y.max():
        raise ValueError("the target needs both classes")
    return X, y


def _numeric_columns(X: np.ndarray, feats: list[tuple[str, str]]) -> dict[str, np.ndarray]:
    return {
        name: np.array([to_float(v, name) for v in X[:, j]], dtype=np.float64)
        for j, (name, t) in enumerate(feats)
        if t == "numeric"
    }


# --------------------------------------------------------------------------- encoder


def _woe(good: np.ndarray, bad: np.ndarray, G: float, B: float, prior: float) -> np.ndarray:
    """ln(%good / %bad), shrunk towards 0 by ``prior`` pseudo-applicants at the base rate.

    An empty bin gets exactly 0 (neutral)."""
    N = G + B
    g = (good + prior * G / N) / G
    b = (bad + prior * B / N) / B
    return np.log(g / b)


def _counts(idx: np.ndarray, y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    bad = np.bincount(idx, weights=y, minlength=k)
    tot = np.bincount(idx, minlength=k).astype(np.float64)
    return tot - bad, bad


class WoEEncoder(TransformerMixin, BaseEstimator):
    """Raw object matrix -> WoE matrix (one column per model feature)."""

    def __init__(self, spec: dict[str, Any] | None = None):
        self.spec = spec

    def _model_features(self) -> list[dict[str, Any]]:
        out = []
        for name, f in self.spec["features"].items():
            out.append({"name": name, "type": f["type"], "monotone": f.get("monotone"), "expr": None})
        for name, d in self.spec["derived"].items():
            out.append({"name": name, "type": "numeric", "monotone": d.get("monotone"), "expr": d["expr"]})
        return out

    def _values(self, X: np.ndarray) -> dict[str, Any]:
        feats = input_features(self.spec)
        cols: dict[str, Any] = _numeric_columns(X, feats)
        for j, (name, t) in enumerate(feats):
            if t == "categorical":
                cols[name] = [to_category(v, name) for v in X[:, j]]
        for name, d in self.spec["derived"].items():
            cols[name] = expr_mod.evaluate(d["expr"], cols)
        return cols

    def _numeric_bins(self, x: np.ndarray, y: np.ndarray, monotone: str | None, G, B) -> dict:
        card = self.spec["scorecard"]
        prior = float(card["woe_prior"])
        miss = np.isnan(x)
        xv, yv = x[~miss], y[~miss]
        edges: list[float] = []
        if xv.size:
            qs = np.quantile(xv, np.linspace(0, 1, int(card["max_bins"]) + 1)[1:-1])
            edges = [float(e) for e in np.unique(qs) if e > xv.min()]
        min_count = max(1, math.ceil(float(card["min_bin_share"]) * len(x)))

        def stats(edges):
            idx = np.searchsorted(np.asarray(edges, dtype=np.float64), xv, side="right")
            g, b = _counts(idx, yv, len(edges) + 1)
            return g, b, _woe(g, b, G, B, prior)

        # merge bins that are too small into their smaller neighbour
        while edges:
            g, b, _ = stats(edges)
            n = g + b
            small = np.flatnonzero(n < min_count)
            if small.size == 0:
                break
            i = int(small[0])
            if i == 0:
                del edges[0]
            elif i == len(n) - 1:
                del edges[-1]
            else:
                del edges[i - 1 if n[i - 1] <= n[i + 1] else i]
        # merge adjacent bins until WoE is monotone in the declared direction
        if monotone:
            sign = 1.0 if monotone == "increasing" else -1.0
            while edges:
                _, _, w = stats(edges)
                viol = np.flatnonzero(sign * np.diff(w) < 0)
                if viol.size == 0:
                    break
                del edges[int(viol[0])]
        g, b, w = stats(edges)
        gm, bm = float((1 - y[miss]).sum()), float(y[miss].sum())
        wm = float(_woe(np.array([gm]), np.array([bm]), G, B, prior)[0])
        return {
            "edges": edges,
            "woe": [float(v) for v in w],
            "woe_missing": wm,
            "counts": [int(v) for v in g + b] + [int(gm + bm)],
            "bad": [int(v) for v in b] + [int(bm)],
        }

    def _categorical_bins(self, c: list[str | None], y: np.ndarray, G, B) -> dict:
        card = self.spec["scorecard"]
        prior = float(card["woe_prior"])
        levels: dict[str, list[int]] = {}
        for v, t in zip(c, y, strict=True):
            key = "\0missing" if v is None else v
            acc = levels.setdefault(key, [0, 0])
            acc[0] += 1
            acc[1] += int(t)
        miss = levels.pop("\0missing", [0, 0])
        other = [0, 0]
        kept: dict[str, list[int]] = {}
        for k in sorted(levels):
            if levels[k][0] >= int(card["min_category_count"]):
                kept[k] = levels[k]
            else:
                other[0] += levels[k][0]
                other[1] += levels[k][1]

        def w(acc):
            return float(_woe(np.array([acc[0] - acc[1]]), np.array([acc[1]]), G, B, prior)[0])

        return {
            "categories": {k: w(v) for k, v in kept.items()},
            "woe_other": w(other),
            "woe_missing": w(miss),
            "counts": {**{k: v[0] for k, v in kept.items()}, OTHER: other[0], "__missing__": miss[0]},
            "bad": {**{k: v[1] for k, v in kept.items()}, OTHER: other[1], "__missing__": miss[1]},
        }

    def fit(self, X: np.ndarray, y: np.ndarray):
        y = np.asarray(y, dtype=np.float64)
        B = float(y.sum())
        G = float(len(y) - B)
        cols = self._values(X)
        self.features_ = []
        for f in self._model_features():
            if f["type"] == "numeric":
                bins = self._numeric_bins(cols[f["name"]], y, f["monotone"], G, B)
            else:
                bins = self._categorical_bins(cols[f["name"]], y, G, B)
            self.features_.append({**f, "bins": bins})
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        cols = self._values(X)
        W = np.empty((X.shape[0], len(self.features_)), dtype=np.float64)
        for j, f in enumerate(self.features_):
            b = f["bins"]
            if f["type"] == "numeric":
                x = cols[f["name"]]
                woe = np.asarray(b["woe"] + [b["woe_missing"]])
                idx = np.searchsorted(np.asarray(b["edges"], dtype=np.float64), x, side="right")
                idx[np.isnan(x)] = len(woe) - 1
                W[:, j] = woe[idx]
            else:
                cat = b["categories"]
                W[:, j] = [b["woe_missing"] if v is None else cat.get(v, b["woe_other"]) for v in cols[f["name"]]]
        return W


class ScorecardLogit(ClassifierMixin, BaseEstimator):
    """Logistic regression on WoE columns (y = 1 is bad).

    With WoE = ln(%good/%bad) every coefficient must be <= 0 for the points to
    follow the bins' risk order; a feature with a positive coefficient is dropped
    (coefficient 0) and the model refitted."""

    def __init__(self, C: float = 1.0):
        self.C = C

    def fit(self, W: np.ndarray, y: np.ndarray):
        self.classes_ = np.array([0, 1])
        support = np.ones(W.shape[1], dtype=bool)
        while True:
            lr = LogisticRegression(C=self.C, max_iter=2000, tol=1e-10)
            lr.fit(W[:, support], y)
            coef = lr.coef_[0]
            if support.sum() == 1 or coef.max() <= 0:
                break
            support[np.flatnonzero(support)[int(np.argmax(coef))]] = False
        self.lr_ = lr
        self.support_ = support
        self.coef_ = np.zeros(W.shape[1])
        self.coef_[support] = np.minimum(coef, 0.0) if support.sum() > 1 else coef
        self.intercept_ = float(lr.intercept_[0])
        return self

    def decision_function(self, W: np.ndarray) -> np.ndarray:
        return self.lr_.decision_function(W[:, self.support_])

    def predict_proba(self, W: np.ndarray) -> np.ndarray:
        return self.lr_.predict_proba(W[:, self.support_])

    def predict(self, W: np.ndarray) -> np.ndarray:
        return (self.predict_proba(W)[:, 1] >= 0.5).astype(int)


def build_pipeline(spec: dict[str, Any]) -> Pipeline:
    return Pipeline([("woe", WoEEncoder(spec)), ("logit", ScorecardLogit(C=float(spec["scorecard"]["C"])))])


# --------------------------------------------------------------------------- metrics


def ks_stat(y: np.ndarray, p: np.ndarray) -> float:
    fpr, tpr, _ = roc_curve(y, p)
    return float(np.max(tpr - fpr))


def cross_validate(spec, X, y, folds: int = 5, seed: int = 0) -> tuple[list[float], np.ndarray]:
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    oof = np.empty(len(y))
    aucs = []
    for tr, te in skf.split(X, y):
        pipe = clone(build_pipeline(spec)).fit(X[tr], y[tr])
        oof[te] = pipe.predict_proba(X[te])[:, 1]
        aucs.append(float(roc_auc_score(y[te], oof[te])))
    return aucs, oof


def fairness_report(spec, X, y, pd_oof, grade_of) -> dict[str, Any]:
    out: dict[str, Any] = {}
    names = [n for n, _ in input_features(spec)]
    for feat, conf in (spec.get("fairness") or {}).items():
        if feat not in names:
            continue
        x = np.array([to_float(v, feat) for v in X[:, names.index(feat)]])
        edges = list(conf["bands"])
        rows = []
        for lo, hi in zip(edges, [*edges[1:], math.inf], strict=True):
            m = (x >= lo) & (x < hi)
            if not m.any():
                continue
            grades = [grade_of(p) for p in pd_oof[m]]
            rows.append(
                {
                    "band": f"{lo}-{hi - 1}" if hi != math.inf else f"{lo}+",
                    "n": int(m.sum()),
                    "bad_rate": float(y[m].mean()),
                    "mean_pd": float(pd_oof[m].mean()),
                    "auc": float(roc_auc_score(y[m], pd_oof[m])) if 0 < y[m].sum() < m.sum() else None,
                    "share_grade_A_to_C": float(np.mean([g in ("A", "B", "C") for g in grades])),
                }
            )
        below = (x < edges[0]).sum()
        out[feat] = {"bands": rows, "below_first_band": int(below), "missing": int(np.isnan(x).sum())}
    return out


# --------------------------------------------------------------------------- artifact


@dataclass
class TrainResult:
    model: dict[str, Any]
    pipeline: Pipeline
    X: np.ndarray
    y: np.ndarray
    out_dir: Path


def _grade_fn(grades: list[tuple[str, float]]):
    def grade(p: float) -> str:
        for g, bound in grades:
            if p < bound:
                return g
        return grades[-1][0]

    return grade


def train(
    data: str | Path,
    spec_path: str | Path,
    out: str | Path,
    *,
    name: str = "credit-scorecard",
    folds: int = 5,
    seed: int = 0,
    log=print,
) -> TrainResult:
    spec = load_spec(spec_path)
    data_bytes = Path(data).read_bytes()
    spec_bytes = Path(spec_path).read_bytes()
    digest = hashlib.sha256(data_bytes + b"\0" + spec_bytes).hexdigest()
    now = dt.datetime.now(dt.UTC)
    model_version = f"{name}-{now:%Y%m%d}-{digest[:8]}"

    X, y = load_dataset(data, spec)
    log(f"data: {len(y)} rows, bad rate {y.mean():.3f}")
    aucs, oof = cross_validate(spec, X, y, folds=folds, seed=seed)
    log(f"CV AUC ({folds}-fold stratified): {np.mean(aucs):.4f} +/- {np.std(aucs):.4f}")

    pipe = build_pipeline(spec).fit(X, y)
    enc: WoEEncoder = pipe.named_steps["woe"]
    logit: ScorecardLogit = pipe.named_steps["logit"]
    p_train = pipe.predict_proba(X)[:, 1]

    card = spec["scorecard"]
    pdo, base_score, base_odds = float(card["pdo"]), float(card["base_score"]), float(card["base_odds"])
    factor = pdo / math.log(2.0)
    offset = base_score - factor * math.log(base_odds)
    grades = [(str(g), float(b)) for g, b in card["grades"].items()]
    grade_of = _grade_fn(grades)

    model_features = []
    for j, f in enumerate(enc.features_):
        coef = float(logit.coef_[j])
        b = f["bins"]
        if f["type"] == "numeric":
            woes = [*b["woe"], b["woe_missing"]]
            counts = b["counts"]
        else:
            keys = [*b["categories"], OTHER, "__missing__"]
            woes = [*b["categories"].values(), b["woe_other"], b["woe_missing"]]
            counts = [b["counts"][k] for k in keys]
        pts = [-factor * coef * w + 0.0 for w in woes]  # + 0.0: no -0.0 in JSON
        supported = [p for p, c in zip(pts, counts, strict=True) if c > 0] or [0.0]
        src = spec["derived"].get(f["name"]) or spec["features"][f["name"]]
        entry = {
            "name": f["name"],
            "type": f["type"],
            "source": "derived" if f["expr"] else "input",
            "monotone": f["monotone"],
            "reason": src["reason"],
            "reason_code": reason_code(f["name"]),
            "coefficient": coef,
            "in_model": coef != 0.0,
            "bins": b,
            "points": pts,
            "best_points": float(max(supported)),
        }
        if f["expr"]:
            entry["expr"] = f["expr"]
        model_features.append(entry)

    pm = p_train
    metrics = {
        "n": len(y),
        "bad_rate": float(y.mean()),
        "cv_folds": folds,
        "cv_auc_mean": float(np.mean(aucs)),
        "cv_auc_std": float(np.std(aucs)),
        "cv_auc_folds": aucs,
        "cv_gini": float(2 * np.mean(aucs) - 1),
        "cv_ks": ks_stat(y, oof),
        "cv_brier": float(brier_score_loss(y, oof)),
        "train_auc": float(roc_auc_score(y, pm)),
        "grade_distribution_oof": {
            g: {
                "share": float(np.mean([grade_of(p) == g for p in oof])),
                "bad_rate": (
                    float(y[[grade_of(p) == g for p in oof]].mean()) if any(grade_of(p) == g for p in oof) else None
                ),
            }
            for g, _ in grades
        },
    }
    fairness = fairness_report(spec, X, y, oof, grade_of)

    model = {
        "schema_version": 1,
        "model_type": "woe-logistic-scorecard",
        "model_version": model_version,
        "created_at": now.isoformat(timespec="seconds"),
        "data_sha256": hashlib.sha256(data_bytes).hexdigest(),
        "spec_sha256": hashlib.sha256(spec_bytes).hexdigest(),
        "target": {"column": spec["target"], "bad_value": spec["bad_value"], "pd_means": "P(bad)"},
        "input_features": [
            {"name": n, "type": t, "money": bool(spec["features"][n].get("money", False))}
            for n, t in input_features(spec)
        ],
        "excluded": spec["exclude"],
        "money_unit_minor": spec["money_unit_minor"],
        "input_rules": {
            "numeric": "number or numeric string; null, NaN, '' or 'NA' = missing",
            "categorical": "string, stripped and lower-cased; null or '' = missing; unseen = __other__",
            "bins": "numeric bin i holds edges[i-1] <= x < edges[i]; the last WoE entry is the missing bin",
        },
        "model_features": model_features,
        "intercept": float(logit.intercept_),
        "scaling": {
            "formula": "score = offset + factor * ln(odds good:bad) = offset - factor * logit(pd)",
            "pdo": pdo,
            "base_score": base_score,
            "base_odds": base_odds,
            "factor": factor,
            "offset": offset,
            "base_points": offset - factor * float(logit.intercept_),
        },
        "grades": [{"grade": g, "max_pd": b} for g, b in grades],
        "metrics": metrics,
        "fairness": fairness,
    }

    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "model.json").write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
    (out_dir / "REPORT.md").write_text(_report(model), encoding="utf-8")
    log(f"artifact: {out_dir} ({model_version})")
    return TrainResult(model=model, pipeline=pipe, X=X, y=y, out_dir=out_dir)


def _report(m: dict[str, Any]) -> str:
    mt = m["metrics"]
    lines = [
        f"# {m['model_version']}",
        "",
        f"WoE logistic scorecard trained on {mt['n']} rows (bad rate {mt['bad_rate']:.3f}).",
        "",
        f"- CV ROC AUC ({mt['cv_folds']}-fold stratified): {mt['cv_auc_mean']:.4f} "
        f"+/- {mt['cv_auc_std']:.4f} (Gini {mt['cv_gini']:.3f}, KS {mt['cv_ks']:.3f}, "
        f"Brier {mt['cv_brier']:.4f})",
        f"- train AUC: {mt['train_auc']:.4f}",
        f"- scaling: {m['scaling']['base_score']:.0f} points at {m['scaling']['base_odds']:.0f}:1 "
        f"good:bad odds, {m['scaling']['pdo']:.0f} points to double the odds",
        f"- features in model: {', '.join(f['name'] for f in m['model_features'] if f['in_model'])}",
        f"- dropped (wrong sign): {', '.join(f['name'] for f in m['model_features'] if not f['in_model']) or 'none'}",
        f"- excluded (never an input): {', '.join(m['excluded']) or 'none'}",
        "",
        "| grade | max PD | share (OOF) | bad rate (OOF) |",
        "|---|---|---|---|",
    ]
    for g in m["grades"]:
        d = mt["grade_distribution_oof"][g["grade"]]
        br = "-" if d["bad_rate"] is None else f"{d['bad_rate']:.3f}"
        lines.append(f"| {g['grade']} | {g['max_pd']:.2f} | {d['share']:.3f} | {br} |")
    for feat, fr in m["fairness"].items():
        lines += ["", f"Fairness by {feat} band (out-of-fold):", ""]
        lines += ["| band | n | bad rate | mean PD | AUC | share A-C |", "|---|---|---|---|---|---|"]
        for r in fr["bands"]:
            auc = "-" if r["auc"] is None else f"{r['auc']:.3f}"
            lines.append(
                f"| {r['band']} | {r['n']} | {r['bad_rate']:.3f} | {r['mean_pd']:.3f} | {auc} | "
                f"{r['share_grade_A_to_C']:.3f} |"
            )
    return "\n".join(lines) + "\n"
