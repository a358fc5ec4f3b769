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
import itertools
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
from bnpl_model.scorer import SCHEMA_VERSION, Scorer, reason_code, to_category, to_float
from bnpl_model.spec import BASELINE_FAMILY, FAMILIES, load_spec

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


Groups = list[tuple[str, np.ndarray]]  # (label, boolean row mask) of one fairness attribute


def candidate_name(family: str, drop: tuple[str, ...]) -> str:
    return family if not drop else f"{family} without {'+'.join(drop)}"


def air_rows(groups: Groups, y: np.ndarray, pd: np.ndarray, cutoff: float, min_n: int) -> list[dict[str, Any]]:
    """Approval rate (pd <= cutoff) per group and adverse impact ratio against the most approved
    group with at least ``min_n`` rows; flagged below 0.8."""
    approved = pd <= cutoff
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
    ref = max((r["approval_rate"] for r in rows if r["n"] >= min_n), default=0.0)
    for r in rows:
        r["air"] = r["approval_rate"] / ref if ref > 0 else None
        r["flag"] = bool(r["air"] is not None and r["air"] < 0.8 and r["n"] >= min_n)
    return rows


def lowest_air(rows: list[dict[str, Any]], min_n: int) -> tuple[float, str]:
    big = [r for r in rows if r["n"] >= min_n and r["air"] is not None]
    if not big:
        return 1.0, ""
    worst = min(big, key=lambda r: r["air"])
    return float(worst["air"]), str(worst["group"])


def proxy_strength(spec: dict[str, Any], X: np.ndarray, member: np.ndarray) -> dict[str, float]:
    """How well each input alone picks out the members of a group: ROC AUC folded to >= 0.5
    (0.5 = carries nothing about membership). Numeric: the value itself (missing = median);
    categorical: each level's in-sample share of members."""
    out: dict[str, float] = {}
    if member.all() or not member.any():
        return out
    for j, (name, t) in enumerate(input_features(spec)):
        if t == "numeric":
            x = np.array([to_float(v, name) for v in X[:, j]])
            x[np.isnan(x)] = np.nanmedian(x) if (~np.isnan(x)).any() else 0.0
        else:
            cats = [to_category(v, name) for v in X[:, j]]
            share: dict[Any, list[int]] = {}
            for c, m in zip(cats, member, strict=True):
                acc = share.setdefault(c, [0, 0])
                acc[0] += 1
                acc[1] += int(m)
            x = np.array([share[c][1] / share[c][0] for c in cats])
        auc = float(roc_auc_score(member, x))
        out[name] = max(auc, 1.0 - auc)
    return out


@dataclass
class Selection:
    champion: str  # candidate name: the family, plus "without ..." for a mitigation variant
    models: dict[str, CalibratedModel]  # final (refitted) models, champion always present
    cv: dict[str, dict[str, Any]]  # per candidate: family, dropped, fold AUCs, mean, OOF metrics, lowest AIR
    oof_margin: dict[str, np.ndarray]
    oof_pd: dict[str, np.ndarray]
    calibration: dict[str, tuple[float, float]]
    folds: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    best_auc: str = ""  # the candidate with the highest mean fold AUC (the champion before mitigation)
    mitigation: dict[str, Any] | None = None

    def family(self, name: str) -> str:
        return str(self.cv[name]["family"])

    def dropped(self, name: str) -> tuple[str, ...]:
        return tuple(self.cv[name]["dropped"])


def select_and_fit(
    spec: dict[str, Any],
    X: np.ndarray,
    y: np.ndarray,
    *,
    candidates: list[str] | None = None,
    groups: Groups | None = None,
    refit: str = "champion",
    log: Callable[..., None] = lambda *a: None,
) -> Selection:
    """CV of every candidate, champion by AUC then fairness, Platt calibration, refit.

    ``groups``: the mitigation attribute's groups over these rows (None: no mitigation).
    ``refit``: "champion", or "report" (also the best-AUC candidate and each family's full model)."""
    sel = spec["selection"]
    families = list(candidates or sel["candidates"])
    skf = StratifiedKFold(n_splits=int(sel["folds"]), shuffle=True, random_state=int(sel["seed"]))
    folds = list(skf.split(X, y))
    cutoff = float(spec["policy"]["cutoff_pd"])
    mit: dict[str, Any] = (spec.get("mitigation") or {}) if groups is not None else {}
    min_n = int(spec["fairness"].get(mit["attribute"], {}).get("min_group", 30)) if mit else 30
    cv: dict[str, dict[str, Any]] = {}
    oof: dict[str, np.ndarray] = {}
    calib: dict[str, tuple[float, float]] = {}
    oof_pd: dict[str, np.ndarray] = {}

    def run(family: str, drop: tuple[str, ...]) -> None:
        name = candidate_name(family, drop)
        margin = np.empty(len(y))
        aucs = []
        with threadpool_limits(1):
            for tr, te in folds:
                est = build(family, spec, drop).fit(X[tr], y[tr])
                margin[te] = est.decision_function(X[te])
                aucs.append(float(roc_auc_score(y[te], margin[te])))
        a, b = platt(margin, y)
        oof[name], calib[name], oof_pd[name] = margin, (a, b), sigmoid(a * margin + b)
        cv[name] = {
            "family": family,
            "dropped": list(drop),
            "auc_folds": aucs,
            "auc_mean": float(np.mean(aucs)),
            "auc_std": float(np.std(aucs)),
            "oof": metrics(y, oof_pd[name]),
        }
        if groups is not None:
            rows = air_rows(groups, y, oof_pd[name], cutoff, min_n)
            cv[name]["lowest_air"], cv[name]["lowest_air_group"] = lowest_air(rows, min_n)
        extra = f", lowest AIR {cv[name]['lowest_air']:.3f}" if groups is not None else ""
        log(f"  {name:32s} CV AUC {cv[name]['auc_mean']:.4f} +/- {cv[name]['auc_std']:.4f}{extra}")

    for fam in families:
        run(fam, ())
    best = max(cv, key=lambda n: cv[n]["auc_mean"])
    mitigation: dict[str, Any] | None = None
    if mit and groups is not None:
        attr = mit["attribute"]
        worst_group = cv[best]["lowest_air_group"]
        member = next((m for label, m in groups if label == worst_group), np.zeros(len(y), dtype=bool))
        strength = proxy_strength(spec, X, member)
        proxies = [n for n in sorted(strength, key=lambda n: -strength[n]) if n != attr]
        base = (attr,) if attr in spec["features"] else ()
        top = proxies[: int(mit["max_proxies"])]
        # the attribute itself, then with every non-empty subset of the strongest proxies
        variants = [base] if base else []
        variants += [(*base, *subset) for k in range(1, len(top) + 1) for subset in itertools.combinations(top, k)]
        for drop in variants:
            for fam in families:
                run(fam, drop)
        best = max(cv, key=lambda n: cv[n]["auc_mean"])
        floor = cv[BASELINE_FAMILY]["auc_mean"] if BASELINE_FAMILY in cv else -math.inf
        tol = float(mit["auc_tolerance"])
        eligible = [n for n in cv if cv[n]["auc_mean"] >= max(cv[best]["auc_mean"] - tol, floor)]
        champion = max(eligible, key=lambda n: (round(cv[n]["lowest_air"], 6), cv[n]["auc_mean"]))
        mitigation = {
            "attribute": attr,
            "group": worst_group,
            "proxies": {n: strength[n] for n in sorted(strength, key=lambda n: -strength[n])},
            "variants": [list(v) for v in variants],
            "auc_tolerance": tol,
            "target_air": float(mit["target_air"]),
            "eligible": eligible,
            "before": best,
            "after": champion,
        }
    else:
        champion = best
    to_fit = {champion}
    if refit == "report":
        to_fit |= {best, *families}
    models = {}
    with threadpool_limits(1):
        for name in sorted(to_fit):
            a, b = calib[name]
            est = build(cv[name]["family"], spec, tuple(cv[name]["dropped"])).fit(X, y)
            models[name] = CalibratedModel(est, a, b)
    return Selection(champion, models, cv, oof, oof_pd, calib, folds, best, mitigation)


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
    groups_all = fairness_groups(spec, data, X)
    mit: dict[str, Any] = spec.get("mitigation") or {}
    attr_groups = groups_all[mit["attribute"]] if mit else None
    cutoff = float(spec["policy"]["cutoff_pd"])
    min_n = int(spec["fairness"][mit["attribute"]].get("min_group", 30)) if mit else 30
    test_min = max(1, min_n // k)  # a test fold holds about 1/k of each group
    proc: list[dict[str, float]] = []
    champs: list[str] = []
    air_after: list[float] = []
    air_before: list[float] = []
    per_family: dict[str, list[dict[str, float]]] = {f: [] for f in spec["selection"]["candidates"]}
    factories = baseline_models(spec) if baselines else {}
    per_base: dict[str, list[dict[str, float]]] = {n: [] for n in factories}
    for i, (tr, te) in enumerate(outer.split(X, y), start=1):
        sub = [(label, m[tr]) for label, m in attr_groups] if attr_groups else None
        sel = select_and_fit(spec, X[tr], y[tr], groups=sub, refit="report")
        champs.append(sel.champion)
        pd_te = sel.models[sel.champion].predict_proba(X[te])[:, 1]
        proc.append(metrics(y[te], pd_te))
        if attr_groups:
            test_groups = [(label, m[te]) for label, m in attr_groups]
            pd_before = sel.models[sel.best_auc].predict_proba(X[te])[:, 1]
            air_after.append(lowest_air(air_rows(test_groups, y[te], pd_te, cutoff, test_min), test_min)[0])
            air_before.append(lowest_air(air_rows(test_groups, y[te], pd_before, cutoff, test_min), test_min)[0])
        for fam in per_family:
            model = sel.models.get(fam)
            if model is not None:
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
        f"each training part runs the full procedure (inner {spec['selection']['folds']}-fold selection "
        "with fairness mitigation + calibration)",
        "folds": len(proc),
        **mean_metrics(proc),
        "champion": counts.most_common(1)[0][0],
        "champion_by_fold": dict(counts),
        "candidates": {f: mean_metrics(m) for f, m in per_family.items() if m},
        "baselines": {n: mean_metrics(m) for n, m in per_base.items()},
        "baseline_descriptions": {n: BASELINE_LABELS[n] for n in per_base},
        "seconds": round(time.perf_counter() - t0, 1),
    }
    if attr_groups:
        out["fairness"] = {
            "attribute": mit["attribute"],
            "cutoff_pd": cutoff,
            "lowest_air_after": float(np.mean(air_after)),
            "lowest_air_before": float(np.mean(air_before)),
            "note": "mean over the outer test folds of the lowest adverse impact ratio of the attribute's groups "
            f"(groups of at least {test_min} test rows); before = the best-AUC candidate, after = the champion",
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
    if f["type"] == "numeric" and "linear" in table:
        x = np.asarray(values, dtype=np.float64)
        lin, n_miss = table["linear"], int(np.isnan(x).sum())
        ends = [lin["slope"] * lin["lo"] + lin["intercept"], lin["slope"] * lin["hi"] + lin["intercept"]]
        return {
            "rows": int(len(x) - n_miss),
            "missing_count": n_miss,
            "best": float(min([*ends, table["missing"]] if n_miss else ends)),
        }
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


def fairness_groups(spec: dict[str, Any], data: str | Path, X: np.ndarray) -> dict[str, Groups]:
    """Per fairness attribute, its groups over the rows of ``data`` (bands or levels)."""
    names = [n for n, _ in input_features(spec)]
    extra = [c for c in spec["fairness"] if c not in names]
    raw = read_columns(data, extra) if extra else {}
    out: dict[str, Groups] = {}
    for col, conf in spec["fairness"].items():
        values = list(X[:, names.index(col)]) if col in names else raw[col]
        groups: Groups = []
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
        out[col] = groups
    return out


def _fairness(
    spec: dict[str, Any], groups: dict[str, Groups], y: np.ndarray, pd: np.ndarray, before: np.ndarray | None
) -> dict[str, Any]:
    """The fairness table of every attribute for the champion's out-of-fold PDs; with ``before``
    (the best-AUC candidate's, when mitigation chose another) an ``air_before`` per group."""
    names = [n for n, _ in input_features(spec)]
    cutoff = float(spec["policy"]["cutoff_pd"])
    out: dict[str, Any] = {}
    for col, conf in spec["fairness"].items():
        min_n = int(conf.get("min_group", 30))
        rows = air_rows(groups[col], y, pd, cutoff, min_n)
        if before is not None:
            prior = {r["group"]: r for r in air_rows(groups[col], y, before, cutoff, min_n)}
            for r in rows:
                r["air_before"] = prior[r["group"]]["air"]
                r["approval_rate_before"] = prior[r["group"]]["approval_rate"]
        out[col] = {
            "is_model_input": col in names,
            "cutoff_pd": cutoff,
            "reference_approval_rate": max((r["approval_rate"] for r in rows if r["n"] >= min_n), default=0.0),
            "min_group": min_n,
            "lowest_air": lowest_air(rows, min_n)[0],
            "groups": rows,
        }
    return out


def add_reference(model: dict[str, Any], reference: dict[str, Any]) -> None:
    """Store the reference applicant and, per feature, its value and contribution (what reasons compare with)."""
    model["reference"] = {
        "inputs": reference,
        "meaning": "the policy's reference applicant: a feature is a reason only if it cost the applicant more "
        "than reasons.min_points against the reference's contribution on that feature",
    }
    scorer = Scorer({**model, "schema_version": SCHEMA_VERSION})
    contributions = scorer.explain(reference)["contributions"]
    cols = {n: [v] for n, v in reference.items()}
    for f in model["model_features"]:
        if f["type"] == "numeric":
            value: float | str | None = parse_value(f, reference, cols)
        else:
            value = to_category(reference.get(f["name"]), f["name"])
        f["reference"] = {"value": value, "contribution": float(contributions.get(f["name"], 0.0))}


def parse_value(f: dict[str, Any], inputs: dict[str, Any], cols: dict[str, Any]) -> float | None:
    if f.get("expr"):
        from bnpl_model import expr as expr_mod

        numeric = {n: np.array([to_float(v[0], n)]) for n, v in cols.items() if n in expr_mod.names(f["expr"])}
        v = float(expr_mod.evaluate(f["expr"], numeric)[0])
    else:
        v = to_float(inputs.get(f["name"]), f["name"])
    return None if math.isnan(v) else v


def outcome(pd: float, policy: dict[str, Any]) -> str:
    if pd <= float(policy["cutoff_pd"]):
        return "approved"
    return "referred" if pd <= float(policy["refer_pd"]) else "declined"


def order_inputs(surface: dict[str, Any], unit: float, amount_minor: int, term: float) -> dict[str, Any]:
    """The model's order inputs for an order of ``amount_minor`` over ``term``."""
    price = amount_minor / unit
    share = float(surface["financed_share_by_term"].get(term, surface["financed_share"]))
    out: dict[str, Any] = {surface["amount"]: price * share, surface["term"]: term}
    if surface.get("price"):
        out[surface["price"]] = price
    return out


def decision_surface(model: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """PD, score, outcome and reasons of every archetype over the amount x term grid, and each
    archetype's expectations checked."""
    surface, policy = spec["decision_surface"], model["policy"]
    unit = float(spec["money_unit_minor"])
    scorer = Scorer(model)
    out: dict[str, Any] = {
        "amounts_minor": surface["amounts_minor"],
        "terms": surface["terms"],
        "financed_share": surface["financed_share"],
        "financed_share_by_term": surface["financed_share_by_term"],
        "inputs": {"amount": surface["amount"], "price": surface.get("price"), "term": surface["term"]},
        "archetypes": {},
    }
    for name, a in spec["archetypes"].items():
        grid = []
        for amount in surface["amounts_minor"]:
            row = []
            for term in surface["terms"]:
                p = scorer.score([{**a["inputs"], **order_inputs(surface, unit, amount, term)}])[0]
                row.append(
                    {
                        "pd": p["pd"],
                        "score": p["score"],
                        "grade": p["grade"],
                        "outcome": outcome(p["pd"], policy),
                        "reasons": [r["code"] for r in p["reasons"]],
                    }
                )
            grid.append(row)
        checks = []
        for e in a["expect"]:
            inst = {**a["inputs"], **order_inputs(surface, unit, int(e["amount_minor"]), float(e["term"]))}
            pd = scorer.score([inst])[0]["pd"]
            got = outcome(pd, policy)
            ok = got == e["outcome"] or (e["outcome"] == "not approved" and got != "approved")
            checks.append({**e, "pd": pd, "got": got, "ok": ok})
        out["archetypes"][name] = {
            "description": a["description"],
            "inputs": a["inputs"],
            "grid": grid,
            "expect": checks,
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
    if family and family not in FAMILIES:
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
    groups_all = fairness_groups(spec, data, X)
    mit: dict[str, Any] = spec.get("mitigation") or {}
    sel = select_and_fit(
        spec, X, y, candidates=candidates, groups=groups_all[mit["attribute"]] if mit else None, log=log
    )
    champ = sel.champion
    champ_family, dropped = sel.family(champ), list(sel.dropped(champ))
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
    for f, t in zip(model_features(spec, dropped), tables, strict=True):
        src = spec["derived"].get(f["name"]) or spec["features"][f["name"]]
        counts = _table_counts(f, t["table"], cols[f["name"]])
        ppu = factor * slope
        tab = t["table"]
        if f["type"] == "numeric" and "linear" in tab:
            lin = tab["linear"]
            points = {
                "linear": {"slope": 0.0 - ppu * lin["slope"], "intercept": 0.0 - ppu * lin["intercept"]},
                "missing": 0.0 - ppu * tab["missing"],
            }
        elif f["type"] == "numeric":
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
            "monotone_end_to_end": bool(f["monotone"]) and bool(src.get("monotone_end_to_end", True)),
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
    procedure = (
        f"{spec['selection']['folds']}-fold stratified CV (seed {spec['selection']['seed']}) of each candidate; "
        + (
            f"champion = the highest lowest adverse impact ratio on {mit['attribute']} among the candidates within "
            f"{float(mit['auc_tolerance']):g} of the best mean fold AUC and not below the plain logistic regression"
            if sel.mitigation
            else "champion = highest mean fold AUC"
        )
        + "; Platt calibration on the champion's out-of-fold margins"
    )
    selection_out = {
        "procedure": procedure,
        "champion": champ,
        "best_auc": sel.best_auc,
        "always_candidate": BASELINE_FAMILY,
        "candidates": {
            fam: {
                "family": c["family"],
                "dropped": c["dropped"],
                "auc_mean": c["auc_mean"],
                "auc_std": c["auc_std"],
                **{k: v for k, v in c["oof"].items() if k != "auc"},
                **(
                    {"lowest_air": c["lowest_air"], "lowest_air_group": c["lowest_air_group"]}
                    if "lowest_air" in c
                    else {}
                ),
            }
            for fam, c in sel.cv.items()
        },
        "baselines": base_results,
        "baseline_descriptions": {n: BASELINE_LABELS[n] for n in base_results},
    }
    before = sel.oof_pd[sel.best_auc] if sel.best_auc != champ else None
    fairness = _fairness(spec, groups_all, y, oof_pd, before)

    model = {
        "schema_version": SCHEMA_VERSION,
        "model_type": "additive-lookup-tables",
        "family": champ_family,
        "family_description": {
            "scorecard": "WoE logistic scorecard (monotone WoE binning + logistic regression)",
            "gbt": "gradient-boosted stumps with monotone constraints (scikit-learn HistGradientBoosting, depth 1)",
            "logit": "plain logistic regression (one-hot categoricals, standardised numerics, monotone signs)",
        }[champ_family],
        "candidate": champ,
        "dropped_features": dropped,
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
            "table": "numeric: value i holds edges[i-1] <= x < edges[i] (bisect_right), or a linear term "
            "slope * min(max(x, lo), hi) + intercept; 'missing' for a missing value; categorical: levels / other / "
            "missing. Values are log-odds of bad before calibration.",
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
            "rule": (
                "features ordered by points lost against the policy's reference applicant (reference)"
                if spec["reference"] is not None
                else "features ordered by points lost against the feature's best populated bin (no reference)"
            )
            + "; losses of min_points or less are not reasons",
        },
        "grades": [{"grade": g, "max_pd": b} for g, b in grades],
        "policy": {
            "cutoff_pd": cutoff,
            "refer_pd": float(spec["policy"]["refer_pd"]),
            "approve_if": "pd <= cutoff_pd",
            "refer_if": "cutoff_pd < pd <= refer_pd",
        },
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
    if sel.mitigation:
        model["mitigation"] = sel.mitigation
    if evaluation:
        model["evaluation"] = evaluation
    if spec["reference"] is not None:
        add_reference(model, spec["reference"])
    if spec["decision_surface"] is not None:
        model["decision_surface"] = decision_surface(model, spec)

    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "model.json").write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
    from bnpl_model import report

    shown = [n for n in sel.oof_pd if not sel.dropped(n) or n == champ]
    curves = {f"{n} ({'champion' if n == champ else 'candidate'})": sel.oof_pd[n] for n in shown}
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
