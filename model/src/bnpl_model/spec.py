"""Load and validate a data-set spec (YAML). Generic: knows no column names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bnpl_model import expr as expr_mod

DEFAULT_SCORECARD: dict[str, Any] = {
    "max_bins": 8,
    "min_bin_share": 0.05,
    "min_category_count": 10,
    "woe_prior": 5.0,
    "C": 1.0,
    "pdo": 20,
    "base_score": 600,
    "base_odds": 50,
    "grades": {"A": 0.08, "B": 0.15, "C": 0.25, "D": 0.40, "E": 1.0},
}

TYPES = ("numeric", "categorical")
MONOTONE = ("increasing", "decreasing")


class SpecError(ValueError):
    pass


def load_spec(path: str | Path) -> dict[str, Any]:
    raw = Path(path).read_text(encoding="utf-8")
    spec = yaml.safe_load(raw)
    return validate(spec)


def validate(spec: Any) -> dict[str, Any]:
    if not isinstance(spec, dict):
        raise SpecError("spec must be a mapping")
    for key in ("target", "bad_value", "features"):
        if key not in spec:
            raise SpecError(f"spec needs {key!r}")
    exclude = [str(x) for x in spec.get("exclude") or []]
    features: dict[str, dict[str, Any]] = {}
    for name, f in (spec["features"] or {}).items():
        name = str(name)
        if name in exclude:
            raise SpecError(f"feature {name!r} is excluded and cannot be an input")
        if name == spec["target"]:
            raise SpecError("the target cannot be a feature")
        f = dict(f or {})
        if f.get("type") not in TYPES:
            raise SpecError(f"feature {name!r}: type must be one of {TYPES}")
        if f.get("monotone") is not None and (f["type"] != "numeric" or f["monotone"] not in MONOTONE):
            raise SpecError(f"feature {name!r}: monotone must be {MONOTONE} on a numeric feature")
        if not f.get("reason"):
            raise SpecError(f"feature {name!r} needs a reason text")
        features[name] = f
    derived: dict[str, dict[str, Any]] = {}
    for name, d in (spec.get("derived") or {}).items():
        name = str(name)
        d = dict(d or {})
        if name in features or name in exclude:
            raise SpecError(f"derived feature {name!r} clashes with an input or excluded column")
        used = expr_mod.names(str(d.get("expr", "")))
        for col in used:
            if col in exclude:
                raise SpecError(f"derived feature {name!r} uses excluded column {col!r}")
            if col not in features or features[col]["type"] != "numeric":
                raise SpecError(f"derived feature {name!r} uses {col!r}, not a numeric input feature")
        if d.get("monotone") is not None and d["monotone"] not in MONOTONE:
            raise SpecError(f"derived feature {name!r}: bad monotone")
        if not d.get("reason"):
            raise SpecError(f"derived feature {name!r} needs a reason text")
        d["type"] = "numeric"
        derived[name] = d
    card = dict(DEFAULT_SCORECARD)
    card.update(spec.get("scorecard") or {})
    grades = card["grades"]
    bounds = list(grades.values())
    if not bounds or bounds != sorted(bounds) or float(bounds[-1]) < 1.0:
        raise SpecError("scorecard.grades must be increasing PD bounds ending at 1.0")
    return {
        "target": str(spec["target"]),
        "bad_value": str(spec["bad_value"]),
        "features": features,
        "derived": derived,
        "exclude": exclude,
        "fairness": spec.get("fairness") or {},
        "money_unit_minor": spec.get("money_unit_minor"),
        "scorecard": card,
    }
