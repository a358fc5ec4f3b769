"""Fast scorer: the model from ``model.json``, numpy only (no sklearn, no pandas).

``Scorer.from_path(artifact_dir).score(instances)`` returns, per instance,
``{"pd", "score", "grade", "reasons", "model_version"}``.

Every model family is additive (see ``families.py``): ``margin = intercept + sum_j
f_j(x_j)`` (log-odds of bad), each ``f_j`` a lookup table (numeric bins, categorical
levels) or, for the plain logistic regression, a linear term ``slope * clip(x, lo, hi)
+ intercept``. Calibrated by ``z = slope * margin + intercept_cal`` (Platt, fitted on
out-of-fold margins), ``pd = 1 / (1 + exp(-z))`` and ``score = offset - factor * z``.
One row is scored in pure Python (``bisect`` on per-feature edge lists, dict look-ups);
larger batches with numpy. Both paths add the contributions in the same order.

Reasons compare the applicant with the policy's reference applicant (schema 3,
``reference`` in model.json): a feature is a reason only if it cost this applicant more
than ``reasons.min_points`` against the reference's contribution on that feature.
Schema 2 artifacts (no reference) compare with each feature's best bin.

This module (with ``expr.py`` and ``payload.py``) is vendored as is into the
SageMaker package's ``code/`` directory: it must keep importing nothing but numpy
and the standard library.
"""

from __future__ import annotations

import json
import math
import re
from bisect import bisect_right
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bnpl_model import expr as expr_mod

MISSING_STRINGS = frozenset({"", "na", "nan", "null", "none"})
MAX_REASONS = 4
SCHEMA_VERSION = 3  # written by the trainer; 3 added linear terms and the reference applicant
READABLE_SCHEMAS = (2, 3)
NUMERIC, CATEGORICAL, LINEAR = 0, 1, 2
SMALL_BATCH = 8  # up to this many rows, the pure-Python path is faster than numpy


def _first(pair: tuple[float, int]) -> float:
    return pair[0]


class InvalidInput(ValueError):
    """An instance cannot be scored (wrong shape or a non-numeric numeric feature)."""


def reason_code(name: str) -> str:
    """``"Income"`` -> ``"R_INCOME"``, ``"LoanToPrice"`` -> ``"R_LOAN_TO_PRICE"``."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return "R_" + re.sub(r"[^A-Za-z0-9]+", "_", snake).strip("_").upper()


def to_float(value: Any, feature: str) -> float:
    """Numeric input -> float; missing (None, NaN, "", "NA") -> NaN."""
    t = type(value)
    if t is float:
        return value if value - value == 0.0 else math.nan  # NaN and +-inf -> NaN
    if t is int:
        return float(value)
    if value is None:
        return math.nan
    if isinstance(value, bool):
        raise InvalidInput(f"feature {feature!r} must be a number, got a boolean")
    if isinstance(value, int | float | np.integer | np.floating):
        v = float(value)
        return v if math.isfinite(v) else math.nan
    if isinstance(value, str):
        s = value.strip()
        if s.lower() in MISSING_STRINGS:
            return math.nan
        try:
            v = float(s)
        except ValueError:
            raise InvalidInput(f"feature {feature!r} must be a number, got {s[:40]!r}") from None
        return v if math.isfinite(v) else math.nan
    raise InvalidInput(f"feature {feature!r} must be a number, got {type(value).__name__}")


def to_category(value: Any, feature: str) -> str | None:
    """Categorical input -> normalised level (stripped, lower case); missing -> None."""
    if value is None:
        return None
    if type(value) is str:
        s = value.strip().lower()
        return None if s in MISSING_STRINGS else s
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict | list):
        raise InvalidInput(f"feature {feature!r} must be a scalar")
    s = str(value).strip().lower()
    return None if s in MISSING_STRINGS else s


def sigmoid(z: float) -> float:
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def population_stability_index(baseline: dict[str, Any], scores: Sequence[float]) -> float:
    """PSI of ``scores`` against the artifact's ``psi_baseline`` (score deciles of the training data)."""
    edges = np.asarray(baseline["edges"], dtype=np.float64)
    expected = np.asarray(baseline["shares"], dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    if s.size == 0:
        raise ValueError("no scores")
    actual = np.bincount(np.searchsorted(edges, s, side="right"), minlength=len(expected)) / s.size
    e, a = np.clip(expected, 1e-4, None), np.clip(actual, 1e-4, None)
    return float(np.sum((a - e) * np.log(a / e)))


class Scorer:
    """Scores instances with the lookup tables in an artifact's ``model.json``."""

    def __init__(self, model: dict[str, Any]):
        if model.get("schema_version") not in READABLE_SCHEMAS:
            raise ValueError(
                f"model.json schema_version {model.get('schema_version')!r}, expected one of {READABLE_SCHEMAS}"
            )
        self.model = model
        self.model_version: str = model["model_version"]
        self.family: str = model["family"]
        self.input_features: list[dict[str, Any]] = model["input_features"]
        self.feature_names = [f["name"] for f in self.input_features]
        self._inputs = [(f["name"], f["type"] == "numeric") for f in self.input_features]
        self._input_types = {f["name"]: f["type"] for f in self.input_features}
        self.intercept = float(model["intercept"])
        cal = model["calibration"]
        self.cal_slope, self.cal_intercept = float(cal["slope"]), float(cal["intercept"])
        sc = model["scaling"]
        self.factor, self.offset = float(sc["factor"]), float(sc["offset"])
        self.points_per_unit = self.factor * self.cal_slope  # points lost per unit of margin
        self.grades = [(g["grade"], float(g["max_pd"])) for g in model["grades"]]
        rs = model.get("reasons") or {}
        self.max_reasons = int(rs.get("max", MAX_REASONS))
        self.min_points = float(rs.get("min_points", 0.0))
        self._min_lost = self.min_points / self.points_per_unit if self.points_per_unit > 0 else math.inf
        self._features: list[dict[str, Any]] = []
        self._rows: list[tuple] = []  # per in-model feature, a flat tuple for the single-row path
        for f in model["model_features"]:
            if not f["in_model"]:
                continue  # every value is 0: skipping it changes no sum
            t = f["table"]
            kind = CATEGORICAL if f["type"] != "numeric" else LINEAR if "linear" in t else NUMERIC
            # the contribution the reasons are measured against (schema 2: the best bin)
            ref = float(f["reference"]["contribution"]) if "reference" in f else float(f["best"])
            entry: dict[str, Any] = {
                "name": f["name"],
                "kind": kind,
                "expr": f.get("expr"),
                "ref": ref,
                "reason": {"code": f["reason_code"], "feature": f["name"], "description": f["reason"]},
                "missing": float(t["missing"]),
            }
            params: Any = None
            if kind == NUMERIC:
                entry["edges"] = np.asarray(t["edges"], dtype=np.float64)
                entry["values"] = np.asarray([*t["values"], t["missing"]], dtype=np.float64)
                params = ([float(e) for e in t["edges"]], [float(v) for v in t["values"]])
            elif kind == LINEAR:
                lin = t["linear"]
                params = (float(lin["slope"]), float(lin["intercept"]), float(lin["lo"]), float(lin["hi"]))
                entry["linear"] = params
            else:
                entry["levels"] = {str(k): float(v) for k, v in t["levels"].items()}
                entry["other"] = float(t["other"])
                params = (entry["levels"], entry["other"])
            self._features.append(entry)
            fn = expr_mod.compile_scalar(f["expr"]) if f.get("expr") else None
            self._rows.append((f["name"], kind, fn, params, float(t["missing"]), ref))
        self._ref = np.array([f["ref"] for f in self._features])
        self._reason_texts = [f["reason"] for f in self._features]

    @classmethod
    def from_path(cls, artifact_dir: str | Path) -> Scorer:
        path = Path(artifact_dir)
        if path.is_dir():
            path = path / "model.json"
        return cls(json.loads(path.read_text(encoding="utf-8")))

    # -- one row (pure Python) -------------------------------------------------

    def _parse_one(self, inst: Any) -> dict[str, Any]:
        if not isinstance(inst, dict):
            raise InvalidInput("each instance must be an object")
        vals: dict[str, Any] = {}
        get = inst.get
        for name, numeric in self._inputs:
            v: Any = get(name)
            if numeric:
                t = type(v)
                if t is float and v - v == 0.0:
                    vals[name] = v
                elif t is int:
                    vals[name] = float(v)
                else:
                    vals[name] = to_float(v, name)
            elif type(v) is str:
                s = v.strip().lower()
                vals[name] = None if s in MISSING_STRINGS else s
            else:
                vals[name] = to_category(v, name)
        return vals

    def _contributions_one(self, vals: dict[str, Any]) -> tuple[float, list[float], list[float]]:
        """margin, per-feature contributions and per-feature loss against the reference (margin units)."""
        margin = self.intercept
        contribs = []
        lost = []
        for name, kind, fn, params, missing, ref in self._rows:
            x = vals[name] if fn is None else fn(vals)
            if kind == NUMERIC:
                c = missing if x != x else params[1][bisect_right(params[0], x)]
            elif kind == CATEGORICAL:
                c = missing if x is None else params[0].get(x, params[1])
            elif x != x:
                c = missing
            else:
                slope, icpt, lo, hi = params
                c = slope * (lo if x < lo else hi if x > hi else x) + icpt
            margin += c
            contribs.append(c)
            lost.append(c - ref)
        return margin, contribs, lost

    def _reasons(self, lost: Sequence[float]) -> list[dict[str, str]]:
        thr = self._min_lost
        cand = [(v, j) for j, v in enumerate(lost) if v > thr]
        if not cand:
            return []
        cand.sort(key=_first, reverse=True)  # stable: ties keep the model_features order
        texts = self._reason_texts
        return [dict(texts[j]) for _, j in cand[: self.max_reasons]]

    def _result(self, margin: float, lost: Sequence[float]) -> dict[str, Any]:
        z = self.cal_slope * margin + self.cal_intercept
        pd = sigmoid(z)
        grade = self.grades[-1][0]
        for g, bound in self.grades:
            if pd < bound:
                grade = g
                break
        return {
            "pd": pd,
            "score": round(self.offset - self.factor * z),
            "grade": grade,
            "reasons": self._reasons(lost) if self.max_reasons else [],
            "model_version": self.model_version,
        }

    def score_one(self, instance: dict[str, Any]) -> dict[str, Any]:
        """Score one instance (pure Python; the path ``score`` takes for small batches)."""
        margin, _, lost = self._contributions_one(self._parse_one(instance))
        return self._result(margin, lost)

    def explain(self, instance: dict[str, Any]) -> dict[str, Any]:
        """Exact additive decomposition of one instance's margin, and the points each feature lost.

        ``intercept + sum(contributions) == margin`` (log-odds of bad before calibration);
        ``lost_points[f] = (contribution - reference contribution) * factor * slope`` (negative
        where the applicant does better than the reference applicant)."""
        margin, contribs, _ = self._contributions_one(self._parse_one(instance))
        names = [r[0] for r in self._rows]
        ppu = self.points_per_unit
        return {
            "intercept": self.intercept,
            "contributions": dict(zip(names, contribs, strict=True)),
            "margin": margin,
            "log_odds": self.cal_slope * margin + self.cal_intercept,
            "points": {n: -ppu * c for n, c in zip(names, contribs, strict=True)},
            "lost_points": {n: ppu * (c - r[5]) for n, c, r in zip(names, contribs, self._rows, strict=True)},
        }

    # -- batches (numpy) ------------------------------------------------------

    def _columns(self, instances: Sequence[Any]) -> dict[str, Any]:
        cols: dict[str, Any] = {}
        n = len(instances)
        for name, numeric in self._inputs:
            cols[name] = np.empty(n, dtype=np.float64) if numeric else [None] * n
        for i, inst in enumerate(instances):
            if not isinstance(inst, dict):
                raise InvalidInput(f"instance {i} must be an object")
            for name, numeric in self._inputs:
                v = inst.get(name)
                cols[name][i] = to_float(v, name) if numeric else to_category(v, name)
        return cols

    def _contributions(self, instances: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        cols = self._columns(instances)
        n = len(instances)
        C = np.empty((n, len(self._features)), dtype=np.float64)
        margin = np.full(n, self.intercept)
        for j, f in enumerate(self._features):
            if f["kind"] == CATEGORICAL:
                lv, other, miss = f["levels"], f["other"], f["missing"]
                C[:, j] = [miss if c is None else lv.get(c, other) for c in cols[f["name"]]]
            else:
                x = cols[f["name"]] if f["expr"] is None else expr_mod.evaluate(f["expr"], cols)
                x = np.broadcast_to(x, (n,))
                nan = np.isnan(x)
                if f["kind"] == NUMERIC:
                    idx = np.searchsorted(f["edges"], x, side="right")
                    idx[nan] = len(f["values"]) - 1
                    C[:, j] = f["values"][idx]
                else:
                    slope, icpt, lo, hi = f["linear"]
                    C[:, j] = np.where(nan, f["missing"], slope * np.clip(x, lo, hi) + icpt)
            margin += C[:, j]  # same order as the single-row path
        return margin, C

    def margins(self, instances: Sequence[dict[str, Any]]) -> np.ndarray:
        """Raw margins (log-odds of bad before calibration), numpy path."""
        self._check(instances)
        return self._contributions(instances)[0]

    def predict_pd(self, instances: Sequence[dict[str, Any]]) -> np.ndarray:
        z = self.cal_slope * self.margins(instances) + self.cal_intercept
        return 1.0 / (1.0 + np.exp(-z))

    @staticmethod
    def _check(instances: Any) -> None:
        if not isinstance(instances, list | tuple):
            raise InvalidInput("instances must be a list of objects")

    def score(self, instances: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        self._check(instances)
        if len(instances) <= SMALL_BATCH:
            for i, inst in enumerate(instances):
                if not isinstance(inst, dict):
                    raise InvalidInput(f"instance {i} must be an object")
            return [self.score_one(inst) for inst in instances]
        margin, C = self._contributions(instances)
        lost = (C - self._ref).tolist()
        return [self._result(m, row) for m, row in zip(margin.tolist(), lost, strict=True)]
