"""Fast scorer: the scorecard from ``model.json``, numpy only (no sklearn, no pandas).

``Scorer.from_path(artifact_dir).score(instances)`` returns, per instance,
``{"pd", "score", "grade", "reasons", "model_version"}``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bnpl_model import expr as expr_mod

MISSING_STRINGS = frozenset({"", "na", "nan", "null", "none"})
MAX_REASONS = 4


class InvalidInput(ValueError):
    """An instance cannot be scored (wrong shape or a non-numeric numeric feature)."""


def reason_code(name: str) -> str:
    """``"Income"`` -> ``"R_INCOME"``, ``"LoanToPrice"`` -> ``"R_LOAN_TO_PRICE"``."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return "R_" + re.sub(r"[^A-Za-z0-9]+", "_", snake).strip("_").upper()


def to_float(value: Any, feature: str) -> float:
    """Numeric input -> float; missing (None, NaN, "", "NA") -> NaN."""
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
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict | list):
        raise InvalidInput(f"feature {feature!r} must be a scalar")
    s = str(value).strip().lower()
    return None if s in MISSING_STRINGS else s


class Scorer:
    """Scores instances with the scorecard in an artifact's ``model.json``."""

    def __init__(self, model: dict[str, Any]):
        self.model = model
        self.model_version: str = model["model_version"]
        self.input_features: list[dict[str, str]] = model["input_features"]
        self.feature_names = [f["name"] for f in self.input_features]
        self._input_types = {f["name"]: f["type"] for f in self.input_features}
        self.intercept = float(model["intercept"])
        sc = model["scaling"]
        self.factor = float(sc["factor"])
        self.offset = float(sc["offset"])
        self.grades = [(g["grade"], float(g["max_pd"])) for g in model["grades"]]
        self._features = []
        for f in model["model_features"]:
            b = f["bins"]
            entry = {
                "name": f["name"],
                "type": f["type"],
                "expr": f.get("expr"),
                "coef": float(f["coefficient"]),
                "code": f["reason_code"],
                "reason": f["reason"],
                "best_points": float(f["best_points"]),
            }
            if f["type"] == "numeric":
                entry["edges"] = np.asarray(b["edges"], dtype=np.float64)
                entry["woe"] = np.asarray(b["woe"] + [b["woe_missing"]], dtype=np.float64)
            else:
                entry["levels"] = dict(b["categories"])
                entry["woe_other"] = float(b["woe_other"])
                entry["woe_missing"] = float(b["woe_missing"])
            self._features.append(entry)

    @classmethod
    def from_path(cls, artifact_dir: str | Path) -> Scorer:
        path = Path(artifact_dir)
        if path.is_dir():
            path = path / "model.json"
        return cls(json.loads(path.read_text(encoding="utf-8")))

    # -- input ---------------------------------------------------------------

    def _columns(self, instances: Sequence[Any]) -> dict[str, Any]:
        if not isinstance(instances, list | tuple):
            raise InvalidInput("instances must be a list of objects")
        cols: dict[str, Any] = {}
        for name in self.feature_names:
            if self._input_types[name] == "numeric":
                cols[name] = np.empty(len(instances), dtype=np.float64)
            else:
                cols[name] = [None] * len(instances)
        for i, inst in enumerate(instances):
            if not isinstance(inst, dict):
                raise InvalidInput(f"instance {i} must be an object")
            for name in self.feature_names:
                v = inst.get(name)
                if self._input_types[name] == "numeric":
                    cols[name][i] = to_float(v, name)
                else:
                    cols[name][i] = to_category(v, name)
        return cols

    def _woe_matrix(self, cols: dict[str, Any], n: int) -> np.ndarray:
        W = np.empty((n, len(self._features)), dtype=np.float64)
        for j, f in enumerate(self._features):
            if f["type"] == "numeric":
                x = cols[f["name"]] if f["expr"] is None else expr_mod.evaluate(f["expr"], cols)
                x = np.broadcast_to(x, (n,))
                idx = np.searchsorted(f["edges"], x, side="right")
                idx = np.where(np.isnan(x), len(f["woe"]) - 1, idx)
                W[:, j] = f["woe"][idx]
            else:
                lv, other, miss = f["levels"], f["woe_other"], f["woe_missing"]
                W[:, j] = [miss if c is None else lv.get(c, other) for c in cols[f["name"]]]
        return W

    # -- scoring -------------------------------------------------------------

    def predict_pd(self, instances: Sequence[dict[str, Any]]) -> np.ndarray:
        z, _ = self._log_odds(instances)
        return 1.0 / (1.0 + np.exp(-z))

    def _log_odds(self, instances: Sequence[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        cols = self._columns(instances)
        W = self._woe_matrix(cols, len(instances))
        coef = np.array([f["coef"] for f in self._features])
        z = W @ coef + self.intercept
        points = -self.factor * W * coef  # points per feature (higher = better)
        return z, points

    def grade(self, pd: float) -> str:
        for g, bound in self.grades:
            if pd < bound:
                return g
        return self.grades[-1][0]

    def score(self, instances: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        z, points = self._log_odds(instances)
        pds = 1.0 / (1.0 + np.exp(-z))
        scores = self.offset - self.factor * z
        best = np.array([f["best_points"] for f in self._features])
        lost = best - points
        out = []
        for i in range(len(pds)):
            order = np.argsort(-lost[i], kind="stable")
            reasons = []
            for j in order[:MAX_REASONS]:
                if lost[i, j] <= 1e-9:
                    break
                f = self._features[j]
                reasons.append({"code": f["code"], "feature": f["name"], "description": f["reason"]})
            pd = float(pds[i])
            out.append(
                {
                    "pd": pd,
                    "score": round(float(scores[i])),
                    "grade": self.grade(pd),
                    "reasons": reasons,
                    "model_version": self.model_version,
                }
            )
        return out
