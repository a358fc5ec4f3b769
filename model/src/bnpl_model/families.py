"""The candidate model families as scikit-learn estimators, and their export to lookup tables.

Both families are *additive* in the model features (inputs + derived features):
``margin = intercept + sum_j f_j(x_j)`` (log-odds of bad), so each feature is one
lookup table (numeric: bin edges + one value per bin + a missing value;
categorical: one value per level + ``__other__`` + missing). The fast scorer only
needs these tables (see ``scorer.py``).

- ``Scorecard``: ``WoEEncoder`` (quantile / category bins, monotone merging,
  weight of evidence) -> ``ScorecardLogit`` (logistic regression on WoE; wrong-sign
  features dropped). Table value of a bin = coefficient * WoE.
- ``AdditiveGBT``: scikit-learn ``HistGradientBoostingClassifier`` with depth-1
  trees (boosted stumps), ``monotonic_cst`` from the spec; categorical levels are
  coded in the order of their (smoothed) training bad rate, rare levels pooled.
  Table value of an interval = the sum of the stumps' leaf values on that feature.

Both estimators take the raw object matrix (columns = the spec's input features)
and expose ``decision_function`` (raw margin), ``predict_proba`` and ``tables()``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from bnpl_model import expr as expr_mod
from bnpl_model.scorer import to_category, to_float

OTHER = "__other__"


def required(spec: dict[str, Any] | None) -> dict[str, Any]:
    """The estimators' spec: scikit-learn wants a default for every constructor argument (``clone``
    rebuilds an estimator from them), but none works without one."""
    if spec is None:
        raise TypeError("the estimator was built without its feature spec")
    return spec


def input_features(spec: dict[str, Any]) -> list[tuple[str, str]]:
    return [(name, f["type"]) for name, f in spec["features"].items()]


def model_features(spec: dict[str, Any], drop: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Inputs then derived features: name, type, monotone, expr (None for inputs), reason.

    A feature in ``drop`` is still listed (an input may feed a derived feature) with
    ``dropped`` set: the families give it no effect (a table of zeros)."""
    out = []
    for name, f in spec["features"].items():
        out.append({"name": name, "type": f["type"], "monotone": f.get("monotone"), "expr": None})
    for name, d in spec["derived"].items():
        out.append({"name": name, "type": "numeric", "monotone": d.get("monotone"), "expr": d["expr"]})
    for f in out:
        f["dropped"] = f["name"] in drop
    return out


def parse_columns(spec: dict[str, Any], X: np.ndarray) -> dict[str, Any]:
    """Raw object matrix -> {feature: float array (NaN = missing) | list of levels (None = missing)}."""
    cols: dict[str, Any] = {}
    for j, (name, t) in enumerate(input_features(spec)):
        if t == "numeric":
            cols[name] = np.array([to_float(v, name) for v in X[:, j]], dtype=np.float64)
        else:
            cols[name] = [to_category(v, name) for v in X[:, j]]
    for name, d in spec["derived"].items():
        cols[name] = expr_mod.evaluate(d["expr"], cols)
    return cols


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


# --------------------------------------------------------------------------- scorecard


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
        return model_features(required(self.spec))

    def _values(self, X: np.ndarray) -> dict[str, Any]:
        return parse_columns(required(self.spec), X)

    def _numeric_bins(self, x: np.ndarray, y: np.ndarray, monotone: str | None, G, B) -> dict:
        card = required(self.spec)["scorecard"]
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
        card = required(self.spec)["scorecard"]
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

    def __init__(self, C: float = 1.0, keep: Sequence[bool] | None = None):
        self.C = C
        self.keep = keep

    def fit(self, W: np.ndarray, y: np.ndarray):
        self.classes_ = np.array([0, 1])
        support = np.ones(W.shape[1], dtype=bool) if self.keep is None else np.array(self.keep, dtype=bool)
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


class Scorecard(ClassifierMixin, BaseEstimator):
    """WoE binning + logistic regression (the classic scorecard)."""

    family = "scorecard"

    def __init__(self, spec: dict[str, Any] | None = None, drop: Sequence[str] = ()):
        self.spec = spec
        self.drop = drop

    def fit(self, X: np.ndarray, y: np.ndarray):
        self.classes_ = np.array([0, 1])
        self.encoder_ = WoEEncoder(self.spec).fit(X, y)
        keep = [f["name"] not in self.drop for f in self.encoder_.features_]
        self.logit_ = ScorecardLogit(C=float(required(self.spec)["scorecard"]["C"]), keep=keep).fit(
            self.encoder_.transform(X), y
        )
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        return self.logit_.decision_function(self.encoder_.transform(X))

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = sigmoid(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def tables(self) -> tuple[float, list[dict[str, Any]]]:
        lr = self.logit_.lr_
        coef = np.zeros(len(self.encoder_.features_))
        coef[self.logit_.support_] = lr.coef_[0]
        out = []
        for j, f in enumerate(self.encoder_.features_):
            b, c = f["bins"], float(coef[j])
            detail = {"coefficient": c, "woe": b}
            if f["type"] == "numeric":
                t = {
                    "edges": list(b["edges"]),
                    "values": [c * w for w in b["woe"]],
                    "missing": c * b["woe_missing"],
                }
            else:
                t = {
                    "levels": {k: c * w for k, w in b["categories"].items()},
                    "other": c * b["woe_other"],
                    "missing": c * b["woe_missing"],
                }
            out.append({"name": f["name"], "in_model": c != 0.0, "table": t, "detail": detail})
        return float(lr.intercept_[0]), out


def zero_table(f: dict[str, Any]) -> dict[str, Any]:
    """The table of a feature with no effect (dropped, or unused by the family)."""
    if f["type"] == "numeric":
        t: dict[str, Any] = {"edges": [], "values": [0.0], "missing": 0.0}
    else:
        t = {"levels": {}, "other": 0.0, "missing": 0.0}
    return {"name": f["name"], "in_model": False, "table": t, "detail": {"dropped": bool(f.get("dropped"))}}


# --------------------------------------------------------------------------- boosted stumps


class AdditiveGBT(ClassifierMixin, BaseEstimator):
    """Gradient-boosted stumps with monotone constraints (an additive model)."""

    family = "gbt"

    def __init__(self, spec: dict[str, Any] | None = None, drop: Sequence[str] = ()):
        self.spec = spec
        self.drop = drop

    def _matrix(self, cols: dict[str, Any]) -> np.ndarray:
        M = np.empty((len(next(iter(cols.values()))), len(self.features_)), dtype=np.float64)
        for j, f in enumerate(self.features_):
            if f["type"] == "numeric":
                M[:, j] = cols[f["name"]]
            else:
                codes = self.codes_[f["name"]]
                other = codes[OTHER]
                M[:, j] = [math.nan if v is None else codes.get(v, other) for v in cols[f["name"]]]
        return M

    def _fit_codes(self, levels: list[str | None], y: np.ndarray) -> dict[str, float]:
        """Level -> code, codes in the order of the smoothed training bad rate (rare levels pooled)."""
        min_count = int(required(self.spec)["scorecard"]["min_category_count"])
        prior, base = 5.0, float(y.mean())
        acc: dict[str, list[float]] = {}
        for v, t in zip(levels, y, strict=True):
            if v is not None:
                a = acc.setdefault(v, [0.0, 0.0])
                a[0] += 1
                a[1] += float(t)
        pooled = [0.0, 0.0]
        kept = {}
        for k, (n, b) in acc.items():
            if n >= min_count:
                kept[k] = (n, b)
            else:
                pooled[0] += n
                pooled[1] += b
        kept[OTHER] = (pooled[0], pooled[1])
        rate = {k: (b + prior * base) / (n + prior) for k, (n, b) in kept.items()}
        order = sorted(kept, key=lambda k: (rate[k], k))
        return {k: float(i) for i, k in enumerate(order)}

    def fit(self, X: np.ndarray, y: np.ndarray):
        self.classes_ = np.array([0, 1])
        y = np.asarray(y)
        self.all_features_ = model_features(required(self.spec), self.drop)
        self.features_ = [f for f in self.all_features_ if not f["dropped"]]
        cols = parse_columns(required(self.spec), X)
        self.codes_ = {
            f["name"]: self._fit_codes(cols[f["name"]], y) for f in self.features_ if f["type"] == "categorical"
        }
        # monotonic_cst is on P(bad): a feature that raises the score (lowers the PD) is -1
        cst = [{"increasing": -1, "decreasing": 1}.get(f["monotone"] or "", 0) for f in self.features_]
        g = required(self.spec)["gbt"]
        self.hgb_ = HistGradientBoostingClassifier(
            max_depth=1,
            learning_rate=float(g["learning_rate"]),
            max_iter=int(g["max_iter"]),
            min_samples_leaf=int(g["min_samples_leaf"]),
            l2_regularization=float(g["l2_regularization"]),
            max_bins=int(g["max_bins"]),
            early_stopping=bool(g["early_stopping"]),
            validation_fraction=float(g["validation_fraction"]),
            n_iter_no_change=int(g["n_iter_no_change"]),
            monotonic_cst=cst,
            random_state=int(required(self.spec)["selection"]["seed"]),
        )
        with threadpool_limits(1):  # small data: one thread is faster than two contended ones
            self.hgb_.fit(self._matrix(cols), y)
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        return self.hgb_.decision_function(self._matrix(parse_columns(required(self.spec), X)))

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = sigmoid(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def tables(self) -> tuple[float, list[dict[str, Any]]]:
        intercept = float(np.asarray(self.hgb_._baseline_prediction).ravel()[0])
        splits: list[list[tuple[float, float, float, bool]]] = [[] for _ in self.features_]
        for (pred,) in self.hgb_._predictors:
            nodes = pred.nodes
            root = nodes[0]
            if root["is_leaf"]:
                intercept += float(root["value"])
                continue
            left, right = nodes[root["left"]], nodes[root["right"]]
            if not (left["is_leaf"] and right["is_leaf"]) or root["is_categorical"]:
                raise ValueError("AdditiveGBT expects numeric stumps")  # pragma: no cover
            splits[int(root["feature_idx"])].append(
                (
                    float(root["num_threshold"]),
                    float(left["value"]),
                    float(right["value"]),
                    bool(root["missing_go_to_left"]),
                )
            )
        by_name = {}
        for j, f in enumerate(self.features_):
            sp = splits[j]
            thr = sorted({s[0] for s in sp})
            # interval i = (thr[i-1], thr[i]]; x <= t goes left. Edges are nextafter(t, +inf), so that
            # bisect_right(edges, x) == i exactly (x < nextafter(t) <=> x <= t for doubles).
            if sp:
                T, LV, RV, ML = (np.array(c) for c in zip(*sp, strict=True))
                upper = np.array([*thr, np.inf])  # interval i lies left of a stump iff its threshold >= thr[i]
                values = [float(v) for v in np.where(T[None, :] >= upper[:, None], LV, RV).sum(axis=1)]
                missing = float(np.where(ML, LV, RV).sum())
            else:
                values, missing = [0.0], 0.0
            edges = [float(np.nextafter(t, np.inf)) for t in thr]
            if f["type"] == "numeric":
                t = {"edges": edges, "values": values, "missing": missing}
            else:
                e = np.asarray(edges)
                codes = self.codes_[f["name"]]

                def at(code: float, e=e, values=values) -> float:
                    return values[int(np.searchsorted(e, code, side="right"))]

                t = {
                    "levels": {k: at(c) for k, c in codes.items() if k != OTHER},
                    "other": at(codes[OTHER]),
                    "missing": missing,
                }
            detail: dict[str, Any] = {"stumps": len(sp)}
            if f["type"] == "categorical":
                detail["codes"] = self.codes_[f["name"]]
            by_name[f["name"]] = {"name": f["name"], "in_model": bool(sp), "table": t, "detail": detail}
        out = [by_name.get(f["name"]) or zero_table(f) for f in self.all_features_]
        return intercept, out


# --------------------------------------------------------------------------- plain logistic regression


class PlainLogit(ClassifierMixin, BaseEstimator):
    """Plain logistic regression on the input features: one-hot categoricals, median-imputed
    standardised numerics (the ``logit_onehot`` baseline of the report), always a candidate.

    Two departures from the textbook model. A numeric value is clipped to the training range
    widened by its own width on each side (``[min - w, max + w]``, ``w = max - min``): so one
    absurd input cannot swing the PD without bound, while cross-validation, whose test values
    practically never lie that far out, sees exactly the plain model. And a coefficient whose
    sign contradicts the spec's ``monotone`` is dropped and the model refitted (as the
    scorecard does), so the monotone promises hold for this family too; with no such
    conflict the candidate is the report's ``logit_onehot`` baseline. It is additive: a
    numeric feature is the linear term ``slope * clip(x, lo, hi) + intercept`` (a ``linear``
    table in the artifact), a categorical one one value per level (``other`` = 0: an unseen
    level has no column)."""

    family = "logit"

    def __init__(self, spec: dict[str, Any] | None = None, drop: Sequence[str] = ()):
        self.spec = spec
        self.drop = drop

    def _spec(self) -> dict[str, Any]:
        if self.spec is None:
            raise ValueError("PlainLogit needs a spec")
        return self.spec

    def _design(self, cols: dict[str, Any]) -> np.ndarray:
        blocks = []
        for f in self.features_:
            v = cols[f["name"]]
            if f["type"] == "numeric":
                p = self.num_[f["name"]]
                x = np.where(np.isnan(v), p["median"], np.clip(v, p["lo"], p["hi"]))
                blocks.append(((x - p["mean"]) / p["scale"])[:, None])
            else:
                levels = self.levels_[f["name"]]
                M = np.zeros((len(v), len(levels)))
                index = {k: i for i, k in enumerate(levels)}
                for r, c in enumerate(v):
                    i = index.get(MISSING_LEVEL if c is None else c)
                    if i is not None:
                        M[r, i] = 1.0
                blocks.append(M)
        return np.hstack(blocks) if blocks else np.zeros((len(next(iter(cols.values()))), 0))

    def fit(self, X: np.ndarray, y: np.ndarray):
        self.classes_ = np.array([0, 1])
        self.all_features_ = model_features(self._spec(), self.drop)
        self.features_ = [f for f in self.all_features_ if not f["dropped"]]
        cols = parse_columns(self._spec(), X)
        self.num_: dict[str, dict[str, float]] = {}
        self.levels_: dict[str, list[str]] = {}
        for f in self.features_:
            v = cols[f["name"]]
            if f["type"] == "numeric":
                seen = v[~np.isnan(v)]
                med = float(np.median(seen)) if seen.size else 0.0
                filled = np.where(np.isnan(v), med, v)
                sd = float(filled.std())
                self.num_[f["name"]] = {
                    "median": med,
                    "lo": float(2 * seen.min() - seen.max()) if seen.size else med,
                    "hi": float(2 * seen.max() - seen.min()) if seen.size else med,
                    "mean": float(filled.mean()),
                    "scale": sd if sd > 0 else 1.0,  # StandardScaler's rule for a constant column
                }
            else:
                self.levels_[f["name"]] = sorted({MISSING_LEVEL if c is None else c for c in v})
        D = self._design(cols)
        # columns of each feature in D, and the sign its coefficient must not take (on P(bad))
        spans, j = [], 0
        for f in self.features_:
            w = 1 if f["type"] == "numeric" else len(self.levels_[f["name"]])
            spans.append((j, j + w))
            j += w
        forbid = [{"increasing": 1.0, "decreasing": -1.0}.get(f["monotone"] or "", 0.0) for f in self.features_]
        support = np.ones(D.shape[1], dtype=bool)
        while True:
            lr = LogisticRegression(max_iter=5000)
            lr.fit(D[:, support], y)
            coef = np.zeros(D.shape[1])
            coef[support] = lr.coef_[0]
            wrong = [(forbid[k] * coef[a], a) for k, (a, _) in enumerate(spans) if forbid[k] * coef[a] > 0]
            if not wrong:
                break
            support[max(wrong)[1]] = False
        self.lr_, self.support_, self.coef_, self.spans_ = lr, support, coef, spans
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        return self.lr_.decision_function(self._design(parse_columns(self._spec(), X))[:, self.support_])

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = sigmoid(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def tables(self) -> tuple[float, list[dict[str, Any]]]:
        by_name = {}
        for f, (a, b) in zip(self.features_, self.spans_, strict=True):
            c = self.coef_[a:b]
            if f["type"] == "numeric":
                p = self.num_[f["name"]]
                slope = float(c[0]) / p["scale"]
                icpt = -float(c[0]) * p["mean"] / p["scale"]
                t: dict[str, Any] = {
                    "linear": {"slope": slope, "intercept": icpt, "lo": p["lo"], "hi": p["hi"]},
                    "missing": slope * p["median"] + icpt,
                }
                detail: dict[str, Any] = {"coefficient": float(c[0]), **p}
            else:
                values = dict(zip(self.levels_[f["name"]], (float(v) for v in c), strict=True))
                t = {
                    "levels": {k: v for k, v in values.items() if k != MISSING_LEVEL},
                    "other": 0.0,
                    "missing": values.get(MISSING_LEVEL, 0.0),
                }
                detail = {"coefficients": values}
            in_model = bool(np.any(c != 0.0))
            by_name[f["name"]] = {"name": f["name"], "in_model": in_model, "table": t, "detail": detail}
        out = [by_name.get(f["name"]) or zero_table(f) for f in model_features(self._spec(), self.drop)]
        return float(self.lr_.intercept_[0]), out


MISSING_LEVEL = "\0missing"
FAMILY_CLASSES: dict[str, Any] = {"scorecard": Scorecard, "gbt": AdditiveGBT, "logit": PlainLogit}


def build(family: str, spec: dict[str, Any], drop: Sequence[str] = ()):
    return FAMILY_CLASSES[family](spec, drop=tuple(drop))
