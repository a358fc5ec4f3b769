"""Train from any CSV + spec: candidate families, champion by CV AUC, Platt calibration, JSON artifact.

Procedure (``select_and_fit``, the same in ``train`` and in every fold of ``evaluate``):

1. stratified K-fold CV (``selection.folds``, default 5) of every candidate family
   on the training data: out-of-fold raw margins per family;
2. champion = the family with the highest mean fold AUC;
3. Platt calibration ``z = slope * margin + intercept`` fitted on the champion's
   out-of-fold margins (never on in-sample margins);
4. the champion refitted on all the training data.

The artifact (``model.json``) holds lookup tables only (no pickle); the scorer
needs nothing but numpy. ``evaluate`` wraps the whole procedure in an outer
repeated stratified CV and compares it with plain baselines on the same folds.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from bnpl_model import __version__
from bnpl_model.families import OTHER, build, input_features, model_features, parse_columns, required, sigmoid
from bnpl_model.scorer import SCHEMA_VERSION, reason_code, to_category, to_float
from bnpl_model.spec import load_spec

# --------------------------------------------------------------------------- data


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
    if y.size == 0 or y.min() == y.max():
        raise ValueError("the target needs both classes")
    return X, y


def read_columns(path: str | Path, names: list[str]) -> dict[str, list[str]]:
    """Raw text of some columns (fairness attributes that are not model inputs)."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [n for n in names if n not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"columns {missing} not in {path}")
        out: dict[str, list[str]] = {n: [] for n in names}
        for row in reader:
            for n in names:
                out[n].append(row[n])
    return out


# --------------------------------------------------------------------------- calibration


def platt(margin: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Fit P(bad) = sigmoid(a * margin + b) by Newton's method (maximum likelihood)."""
    a, b = 1.0, 0.0
    m = np.asarray(margin, dtype=np.float64)
    t = np.asarray(y, dtype=np.float64)
    for _ in range(100):
        p = sigmoid(a * m + b)
        w = p * (1 - p) + 1e-12
        g = np.array([np.sum((p - t) * m), np.sum(p - t)])
        H = np.array([[np.sum(w * m * m), np.sum(w * m)], [np.sum(w * m), np.sum(w)]]) + 1e-9 * np.eye(2)
        step = np.linalg.solve(H, g)
        a, b = a - step[0], b - step[1]
        if np.max(np.abs(step)) < 1e-12:
            break
    return float(a), float(b)


class CalibratedModel(ClassifierMixin, BaseEstimator):
    """The training pipeline as scikit-learn sees it: family estimator + Platt calibration."""

    def __init__(self, base=None, slope: float = 1.0, intercept: float = 0.0):
        self.base = base
        self.slope = slope
        self.intercept = intercept

    @property
    def classes_(self) -> np.ndarray:
        return np.array([0, 1])

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        return self.slope * self.base.decision_function(X) + self.intercept

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = sigmoid(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: np.ndarray) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


# --------------------------------------------------------------------------- metrics


def ks_stat(y: np.ndarray, p: np.ndarray) -> float:
    fpr, tpr, _ = roc_curve(y, p)
    return float(np.max(tpr - fpr))


def metrics(y: np.ndarray, pd: np.ndarray) -> dict[str, float]:
    auc = float(roc_auc_score(y, pd))
    return {"auc": auc, "gini": 2 * auc - 1, "ks": ks_stat(y, pd), "brier": float(brier_score_loss(y, pd))}


def mean_metrics(per_fold: list[dict[str, float]]) -> dict[str, float]:
    out = {k: float(np.mean([m[k] for m in per_fold])) for k in per_fold[0]}
    out["auc_std"] = float(np.std([m["auc"] for m in per_fold]))
    return out


# --------------------------------------------------------------------------- baselines


class RawInputs(TransformerMixin, BaseEstimator):
    """Raw object matrix -> float matrix of the input features only (categoricals as level codes)."""

    def __init__(self, spec: dict[str, Any] | None = None):
        self.spec = spec

    def fit(self, X: np.ndarray, y=None):
        self.levels_ = {}
        for j, (name, t) in enumerate(input_features(required(self.spec))):
            if t == "categorical":
                seen = sorted({c for c in (to_category(v, name) for v in X[:, j]) if c is not None})
                self.levels_[name] = {c: float(i) for i, c in enumerate(seen)}
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        out = np.empty(X.shape, dtype=np.float64)
        for j, (name, t) in enumerate(input_features(required(self.spec))):
            if t == "numeric":
                out[:, j] = [to_float(v, name) for v in X[:, j]]
            else:
                lv = self.levels_[name]
                out[:, j] = [np.nan if c is None else lv.get(c, -1.0) for c in (to_category(v, name) for v in X[:, j])]
        return out


def baseline_models(spec: dict[str, Any]) -> dict[str, Callable[[], Pipeline]]:
    """Plain models on the raw inputs (no derived features, no binning, default settings)."""
    types = [t for _, t in input_features(spec)]
    num = [j for j, t in enumerate(types) if t == "numeric"]
    cat = [j for j, t in enumerate(types) if t == "categorical"]

    def encoded(scale: bool):
        steps = [SimpleImputer(strategy="median")] + ([StandardScaler()] if scale else [])
        return ColumnTransformer(
            [
                ("num", make_pipeline(*steps), num),
                (
                    "cat",
                    make_pipeline(
                        SimpleImputer(strategy="constant", fill_value=-2.0), OneHotEncoder(handle_unknown="ignore")
                    ),
                    cat,
                ),
            ],
            sparse_threshold=0,
        )

    return {
        "logit_onehot": lambda: make_pipeline(RawInputs(spec), encoded(True), LogisticRegression(max_iter=5000)),
        "hgb_default": lambda: make_pipeline(
            RawInputs(spec),
            HistGradientBoostingClassifier(categorical_features=[t == "categorical" for t in types], random_state=0),
        ),
        "gbc_default": lambda: make_pipeline(
            RawInputs(spec), encoded(False), GradientBoostingClassifier(random_state=0)
        ),
    }


BASELINE_LABELS = {
    "logit_onehot": "logistic regression, one-hot categoricals, median-imputed standardised numerics",
    "hgb_default": "HistGradientBoostingClassifier, default settings, native categoricals",
    "gbc_default": "GradientBoostingClassifier, default settings, one-hot categoricals",
}


# --------------------------------------------------------------------------- procedure


@dataclass
class Selection:
    champion: str
    models: dict[str, CalibratedModel]  # final (refitted) models, champion always present
    cv: dict[str, dict[str, Any]]  # per family: fold AUCs, mean, OOF metrics
    oof_margin: dict[str, np.ndarray]
    oof_pd: dict[str, np.ndarray]
    calibration: dict[str, tuple[float, float]]
    folds: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)


def select_and_fit(
    spec: dict[str, Any],
    X: np.ndarray,
    y: np.ndarray,
    *,
    candidates: list[str] | None = None,
    refit_all: bool = False,
    log: Callable[..., None] = lambda *a: None,
) -> Selection:
    sel = spec["selection"]
    candidates = list(candidates or sel["candidates"])
    skf = StratifiedKFold(n_splits=int(sel["folds"]), shuffle=True, random_state=int(sel["seed"]))
    folds = list(skf.split(X, y))
    oof = {fam: np.empty(len(y)) for fam in candidates}
    fold_auc: dict[str, list[float]] = {fam: [] for fam in candidates}
    with threadpool_limits(1):
        for tr, te in folds:
            for fam in candidates:
                est = build(fam, spec).fit(X[tr], y[tr])
                oof[fam][te] = est.decision_function(X[te])
                fold_auc[fam].append(float(roc_auc_score(y[te], oof[fam][te])))
    cv, calib, oof_pd = {}, {}, {}
    for fam in candidates:
        calib[fam] = platt(oof[fam], y)
        a, b = calib[fam]
        oof_pd[fam] = sigmoid(a * oof[fam] + b)
        cv[fam] = {
            "auc_folds": fold_auc[fam],
            "auc_mean": float(np.mean(fold_auc[fam])),
            "auc_std": float(np.std(fold_auc[fam])),
            "oof": metrics(y, oof_pd[fam]),
        }
        log(f"  {fam:10s} CV AUC {cv[fam]['auc_mean']:.4f} +/- {cv[fam]['auc_std']:.4f}")
    champion = max(candidates, key=lambda f: (cv[f]["auc_mean"], -candidates.index(f)))
    models = {}
    with threadpool_limits(1):
        for fam in candidates if refit_all else [champion]:
            a, b = calib[fam]
            models[fam] = CalibratedModel(build(fam, spec).fit(X, y), a, b)
    return Selection(champion, models, cv, oof, oof_pd, calib, folds)


def parse_cv(text: str) -> tuple[int, int]:
    """``"5x2"`` -> 5 folds, 2 repeats."""
    try:
        k, r = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--cv must look like 5x2 (folds x repeats), got {text!r}") from None
    if k < 2 or r < 1:
        raise ValueError("--cv needs at least 2 folds and 1 repeat")
    return k, r


def evaluate(
    data: str | Path,
    spec_path: str | Path,
    *,
    cv: str = "5x2",
    seed: int = 0,
    baselines: bool = True,
    log: Callable[..., None] = lambda *a: None,
) -> dict[str, Any]:
    """Nested evaluation: repeated stratified CV of the whole ``select_and_fit`` procedure."""
    t0 = time.perf_counter()
    spec = load_spec(spec_path)
    X, y = load_dataset(data, spec)
    k, r = parse_cv(cv)
    outer = RepeatedStratifiedKFold(n_splits=k, n_repeats=r, random_state=seed)
    proc: list[dict[str, float]] = []
    champs: list[str] = []
    per_family: dict[str, list[dict[str, float]]] = {f: [] for f in spec["selection"]["candidates"]}
    factories = baseline_models(spec) if baselines else {}
    per_base: dict[str, list[dict[str, float]]] = {n: [] for n in factories}
    for i, (tr, te) in enumerate(outer.split(X, y), start=1):
        sel = select_and_fit(spec, X[tr], y[tr], refit_all=True)
        champs.append(sel.champion)
        proc.append(metrics(y[te], sel.models[sel.champion].predict_proba(X[te])[:, 1]))
        for fam, model in sel.models.items():
            per_family[fam].append(metrics(y[te], model.predict_proba(X[te])[:, 1]))
        with threadpool_limits(1):
            for name, make in factories.items():
                per_base[name].append(metrics(y[te], make().fit(X[tr], y[tr]).predict_proba(X[te])[:, 1]))
        log(f"fold {i}/{k * r}: champion {sel.champion}, AUC {proc[-1]['auc']:.4f}")
    counts = Counter(champs)
    out: dict[str, Any] = {
        "data": str(data),
        "rows": len(y),
        "bad_rate": float(y.mean()),
        "cv": f"{k}x{r}",
        "cv_description": f"{k}-fold stratified CV repeated {r} times (seed {seed}); "
        f"each training part runs the full procedure (inner {spec['selection']['folds']}-fold selection + calibration)",
        "folds": len(proc),
        **mean_metrics(proc),
        "champion": counts.most_common(1)[0][0],
        "champion_by_fold": dict(counts),
        "candidates": {f: mean_metrics(m) for f, m in per_family.items() if m},
        "baselines": {n: mean_metrics(m) for n, m in per_base.items()},
        "baseline_descriptions": {n: BASELINE_LABELS[n] for n in per_base},
        "seconds": round(time.perf_counter() - t0, 1),
    }
    return out


# --------------------------------------------------------------------------- artifact


def _grade_of(grades: list[tuple[str, float]], p: float) -> str:
    for g, bound in grades:
        if p < bound:
            return g
    return grades[-1][0]


def _table_counts(f: dict[str, Any], table: dict[str, Any], values: Any) -> dict[str, Any]:
    """Training rows per bin, and the best (lowest-risk) value among bins that hold rows."""
    if f["type"] == "numeric":
        x = np.asarray(values, dtype=np.float64)
        miss = np.isnan(x)
        idx = np.searchsorted(np.asarray(table["edges"], dtype=np.float64), x[~miss], side="right")
        counts = np.bincount(idx, minlength=len(table["values"])).tolist()
        n_miss = int(miss.sum())
        supported = [v for v, c in zip(table["values"], counts, strict=True) if c > 0]
        if n_miss:
            supported.append(table["missing"])
        return {"counts": counts, "missing_count": n_miss, "best": float(min(supported or [0.0]))}
    levels = table["levels"]
    c = Counter(OTHER if v is not None and v not in levels else v for v in values)
    level_counts = {k: int(c.get(k, 0)) for k in levels}
    supported = [levels[k] for k, n in level_counts.items() if n > 0]
    if c.get(OTHER):
        supported.append(table["other"])
    if c.get(None):
        supported.append(table["missing"])
    return {
        "level_counts": level_counts,
        "other_count": int(c.get(OTHER, 0)),
        "missing_count": int(c.get(None, 0)),
        "best": float(min(supported or [0.0])),
    }


def _fairness(spec, data, X, y, pd: np.ndarray, cutoff: float) -> dict[str, Any]:
    """Approval rate (pd <= cutoff) per group, adverse impact ratio against the most approved group."""
    names = [n for n, _ in input_features(spec)]
    extra = [c for c in spec["fairness"] if c not in names]
    raw = read_columns(data, extra) if extra else {}
    out: dict[str, Any] = {}
    approved = pd <= cutoff
    for col, conf in spec["fairness"].items():
        values = list(X[:, names.index(col)]) if col in names else raw[col]
        groups: list[tuple[str, np.ndarray]] = []
        if conf.get("bands") is not None:
            x = np.array([to_float(v, col) for v in values])
            edges = [float(b) for b in conf["bands"]]
            if (x < edges[0]).any():
                groups.append((f"< {conf['bands'][0]}", x < edges[0]))
            for lo, hi, label_lo, label_hi in zip(
                edges, [*edges[1:], math.inf], conf["bands"], [*conf["bands"][1:], None], strict=True
            ):
                if label_hi is None:
                    label = f"{label_lo}+"
                elif isinstance(label_lo, int) and isinstance(label_hi, int):
                    label = f"{label_lo}-{label_hi - 1}"  # integer bands: 18-24, 25-34, ...
                else:
                    label = f"[{label_lo}, {label_hi})"
                groups.append((label, (x >= lo) & (x < hi)))
            if np.isnan(x).any():
                groups.append(("missing", np.isnan(x)))
        else:
            cats = [to_category(v, col) or "missing" for v in values]
            for level in sorted(set(cats)):
                groups.append((level, np.array([c == level for c in cats])))
        rows: list[dict[str, Any]] = []
        for label, m in groups:
            if not m.any():
                continue
            rows.append(
                {
                    "group": label,
                    "n": int(m.sum()),
                    "bad_rate": float(y[m].mean()),
                    "mean_pd": float(pd[m].mean()),
                    "approval_rate": float(approved[m].mean()),
                    "bad_rate_approved": float(y[m & approved].mean()) if (m & approved).any() else None,
                }
            )
        min_n = int(conf.get("min_group", 30))
        ref = max((r["approval_rate"] for r in rows if r["n"] >= min_n), default=0.0)
        for r in rows:
            r["air"] = r["approval_rate"] / ref if ref > 0 else None
            r["flag"] = bool(r["air"] is not None and r["air"] < 0.8 and r["n"] >= min_n)
        out[col] = {
            "is_model_input": col in names,
            "cutoff_pd": cutoff,
            "reference_approval_rate": ref,
            "min_group": min_n,
            "groups": rows,
        }
    return out


@dataclass
class TrainResult:
    model: dict[str, Any]
    pipeline: CalibratedModel
    selection: Selection
    X: np.ndarray
    y: np.ndarray
    out_dir: Path
    baselines: dict[str, dict[str, Any]] = field(default_factory=dict)


def train(
    data: str | Path,
    spec_path: str | Path,
    out: str | Path,
    *,
    name: str = "credit-scorecard",
    family: str | None = None,
    cutoff_pd: float | None = None,
    folds: int | None = None,
    seed: int | None = None,
    baselines: bool = True,
    plots: bool = True,
    report_dir: str | Path | None = None,
    evaluation: dict[str, Any] | None = None,
    log: Callable[..., None] = print,
) -> TrainResult:
    t0 = time.perf_counter()
    spec = load_spec(spec_path)
    if folds is not None:
        spec["selection"]["folds"] = int(folds)
    if seed is not None:
        spec["selection"]["seed"] = int(seed)
    if cutoff_pd is not None:
        spec["policy"]["cutoff_pd"] = float(cutoff_pd)
    candidates = [family] if family else list(spec["selection"]["candidates"])
    if family and family not in ("scorecard", "gbt"):
        raise ValueError(f"unknown family {family!r}")
    cutoff = float(spec["policy"]["cutoff_pd"])
    data_bytes = Path(data).read_bytes()
    spec_bytes = Path(spec_path).read_bytes()
    settings = json.dumps(
        [__version__, candidates, cutoff, spec["selection"]["folds"], spec["selection"]["seed"]]
    ).encode()
    digest = hashlib.sha256(data_bytes + b"\0" + spec_bytes + b"\0" + settings).hexdigest()
    now = dt.datetime.now(dt.UTC)
    model_version = f"{name}-{now:%Y%m%d}-{digest[:8]}"

    X, y = load_dataset(data, spec)
    log(f"data: {len(y)} rows, bad rate {y.mean():.3f}")
    sel = select_and_fit(spec, X, y, candidates=candidates, log=log)
    champ = sel.champion
    log(f"champion: {champ}; CV AUC ({spec['selection']['folds']}-fold stratified): {sel.cv[champ]['auc_mean']:.4f}")
    base_results: dict[str, dict[str, Any]] = {}
    base_oof: dict[str, np.ndarray] = {}
    if baselines:
        with threadpool_limits(1):
            for bname, make in baseline_models(spec).items():
                oof = np.empty(len(y))
                aucs = []
                for tr, te in sel.folds:
                    oof[te] = make().fit(X[tr], y[tr]).predict_proba(X[te])[:, 1]
                    aucs.append(float(roc_auc_score(y[te], oof[te])))
                base_oof[bname] = oof
                base_results[bname] = {
                    "auc_mean": float(np.mean(aucs)),
                    "auc_std": float(np.std(aucs)),
                    **metrics(y, oof),
                }
                log(f"  baseline {bname:13s} CV AUC {np.mean(aucs):.4f}")

    model_est = sel.models[champ]
    slope, cal_b = sel.calibration[champ]
    intercept, tables = model_est.base.tables()
    cols = parse_columns(spec, X)

    card = spec["scorecard"]
    pdo, base_score, base_odds = float(card["pdo"]), float(card["base_score"]), float(card["base_odds"])
    factor = pdo / math.log(2.0)
    offset = base_score - factor * math.log(base_odds)
    grades = [(str(g), float(b)) for g, b in card["grades"].items()]

    mf_out = []
    for f, t in zip(model_features(spec), tables, strict=True):
        src = spec["derived"].get(f["name"]) or spec["features"][f["name"]]
        counts = _table_counts(f, t["table"], cols[f["name"]])
        ppu = factor * slope
        tab = t["table"]
        if f["type"] == "numeric":
            points = {"values": [0.0 - ppu * v for v in tab["values"]], "missing": 0.0 - ppu * tab["missing"]}
        else:
            points = {
                "levels": {k: 0.0 - ppu * v for k, v in tab["levels"].items()},
                "other": 0.0 - ppu * tab["other"],
                "missing": 0.0 - ppu * tab["missing"],
            }
        entry = {
            "name": f["name"],
            "type": f["type"],
            "source": "derived" if f["expr"] else "input",
            "monotone": f["monotone"],
            "reason": src["reason"],
            "reason_code": reason_code(f["name"]),
            "in_model": t["in_model"],
            "table": tab,
            "best": counts.pop("best"),
            "points": points,
            "train_counts": counts,
            "detail": t["detail"],
        }
        if f["expr"]:
            entry["expr"] = f["expr"]
        mf_out.append(entry)

    # population stability baseline: score deciles of the final model on the training data
    z_train = model_est.decision_function(X)
    scores_train = np.round(offset - factor * z_train)
    dec = np.unique(np.quantile(scores_train, np.linspace(0.1, 0.9, 9)))
    shares = np.bincount(np.searchsorted(dec, scores_train, side="right"), minlength=len(dec) + 1) / len(y)

    oof_pd = sel.oof_pd[champ]
    oof_z = slope * sel.oof_margin[champ] + cal_b
    oof_score = offset - factor * oof_z
    grade_oof = np.array([_grade_of(grades, p) for p in oof_pd])
    grade_table = []
    for g, bound in grades:
        m = grade_oof == g
        grade_table.append(
            {
                "grade": g,
                "max_pd": bound,
                "share": float(m.mean()),
                "n": int(m.sum()),
                "bad_rate": float(y[m].mean()) if m.any() else None,
                "mean_pd": float(oof_pd[m].mean()) if m.any() else None,
                "min_score": float(oof_score[m].min()) if m.any() else None,
                "max_score": float(oof_score[m].max()) if m.any() else None,
            }
        )
    q = np.quantile(oof_pd, np.linspace(0, 1, 11))
    bins = np.clip(np.searchsorted(q[1:-1], oof_pd, side="right"), 0, 9)
    calib_table = [
        {"decile": i + 1, "n": int((bins == i).sum()), "mean_pd": float(oof_pd[bins == i].mean()),
         "bad_rate": float(y[bins == i].mean())}
        for i in range(10) if (bins == i).any()
    ]  # fmt: skip
    approved = oof_pd <= cutoff
    cv_m = sel.cv[champ]
    metrics_out = {
        "n": len(y),
        "bad_rate": float(y.mean()),
        "cv_folds": int(spec["selection"]["folds"]),
        "cv_auc_mean": cv_m["auc_mean"],
        "cv_auc_std": cv_m["auc_std"],
        "cv_auc_folds": cv_m["auc_folds"],
        "cv_gini": 2 * cv_m["auc_mean"] - 1,
        "cv_ks": cv_m["oof"]["ks"],
        "cv_brier": cv_m["oof"]["brier"],
        "train_auc": float(roc_auc_score(y, z_train)),
        "oof_approval_rate_at_cutoff": float(approved.mean()),
        "oof_bad_rate_approved": float(y[approved].mean()) if approved.any() else None,
        "grades_oof": grade_table,
        "calibration_oof": calib_table,
    }
    selection_out = {
        "procedure": f"{spec['selection']['folds']}-fold stratified CV (seed {spec['selection']['seed']}) of each "
        "candidate; champion = highest mean fold AUC; Platt calibration on the champion's out-of-fold margins",
        "champion": champ,
        "candidates": {
            fam: {
                "auc_mean": c["auc_mean"],
                "auc_std": c["auc_std"],
                **{k: v for k, v in c["oof"].items() if k != "auc"},
            }
            for fam, c in sel.cv.items()
        },
        "baselines": base_results,
        "baseline_descriptions": {n: BASELINE_LABELS[n] for n in base_results},
    }
    fairness = _fairness(spec, data, X, y, oof_pd, cutoff)

    model = {
        "schema_version": SCHEMA_VERSION,
        "model_type": "additive-lookup-tables",
        "family": champ,
        "family_description": {
            "scorecard": "WoE logistic scorecard (monotone WoE binning + logistic regression)",
            "gbt": "gradient-boosted stumps with monotone constraints (scikit-learn HistGradientBoosting, depth 1)",
        }[champ],
        "model_version": model_version,
        "package_version": __version__,
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
            "numeric": "number or numeric string; null, NaN, +-inf, '' or 'NA' = missing",
            "categorical": "string, stripped and lower-cased; null or '' = missing; unseen = __other__",
            "table": "numeric: value i holds edges[i-1] <= x < edges[i] (bisect_right); 'missing' for a missing "
            "value; categorical: levels / other / missing. Values are log-odds of bad before calibration.",
            "margin": "intercept + sum of the in-model features' table values, in model_features order",
        },
        "intercept": intercept,
        "calibration": {
            "method": "platt",
            "formula": "z = slope * margin + intercept; pd = 1 / (1 + exp(-z))",
            "slope": slope,
            "intercept": cal_b,
            "fitted_on": f"out-of-fold margins ({spec['selection']['folds']}-fold CV)",
        },
        "model_features": mf_out,
        "scaling": {
            "formula": "score = offset - factor * z  (z = calibrated log-odds of bad)",
            "pdo": pdo,
            "base_score": base_score,
            "base_odds": base_odds,
            "factor": factor,
            "offset": offset,
            "base_points": offset - factor * (slope * intercept + cal_b),
        },
        "reasons": {
            "max": int(spec["reasons"]["max"]),
            "min_points": float(spec["reasons"]["min_points"]),
            "rule": "features ordered by points lost against the feature's best attainable bin; "
            "losses of min_points or less are not reasons",
        },
        "grades": [{"grade": g, "max_pd": b} for g, b in grades],
        "policy": {"cutoff_pd": cutoff, "approve_if": "pd <= cutoff_pd"},
        "metrics": metrics_out,
        "selection": selection_out,
        "fairness": fairness,
        "limitations": list(spec["report"]["limitations"]),
        "psi_baseline": {
            "edges": [float(e) for e in dec],
            "shares": [float(s) for s in shares],
            "on": "final model scores of the training rows; bin i holds edges[i-1] <= score < edges[i]",
        },
    }
    if evaluation:
        model["evaluation"] = evaluation

    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "model.json").write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
    from bnpl_model import report

    curves = {f"{fam} (candidate)": sel.oof_pd[fam] for fam in sel.oof_pd}
    curves.update({f"{b} (baseline)": p for b, p in base_oof.items()})
    files = report.write(model, out_dir, y=y, oof_pd=oof_pd, oof_score=oof_score, curves=curves, plots=plots)
    if report_dir is not None:
        rd = Path(report_dir)
        rd.mkdir(parents=True, exist_ok=True)
        for name_ in files:
            (rd / name_).write_bytes((out_dir / name_).read_bytes())
    log(f"artifact: {out_dir} ({model_version}, {champ}) in {time.perf_counter() - t0:.1f} s")
    return TrainResult(
        model=model, pipeline=model_est, selection=sel, X=X, y=y, out_dir=out_dir, baselines=base_results
    )
