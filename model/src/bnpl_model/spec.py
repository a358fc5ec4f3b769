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

DEFAULT_GBT: dict[str, Any] = {
    # depth-1 trees (boosted stumps): the model stays additive per feature, so every
    # feature's effect is one lookup table (exact explanations, monotone by construction)
    "max_depth": 1,
    "learning_rate": 0.1,
    "max_iter": 1000,
    "min_samples_leaf": 30,
    "l2_regularization": 1.0,
    "max_bins": 255,
    "early_stopping": True,
    "validation_fraction": 0.15,
    "n_iter_no_change": 30,
}
DEFAULT_SELECTION: dict[str, Any] = {"candidates": ["scorecard", "gbt"], "folds": 5, "seed": 0}
DEFAULT_REASONS: dict[str, Any] = {"max": 4, "min_points": 3.0}
DEFAULT_POLICY: dict[str, Any] = {"cutoff_pd": 0.20}
FAMILIES = ("scorecard", "gbt")

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
    gbt = {**DEFAULT_GBT, **(spec.get("gbt") or {})}
    if int(gbt["max_depth"]) != 1:
        raise SpecError("gbt.max_depth must be 1: the boosted model is kept additive (one lookup table per feature)")
    selection = {**DEFAULT_SELECTION, **(spec.get("selection") or {})}
    for fam in selection["candidates"]:
        if fam not in FAMILIES:
            raise SpecError(f"selection.candidates: unknown model family {fam!r} (known: {FAMILIES})")
    if not selection["candidates"] or int(selection["folds"]) < 2:
        raise SpecError("selection needs at least one candidate and folds >= 2")
    reasons = {**DEFAULT_REASONS, **(spec.get("reasons") or {})}
    if not 0 <= int(reasons["max"]) <= 10 or float(reasons["min_points"]) < 0:
        raise SpecError("reasons.max must be 0..10 and reasons.min_points >= 0")
    policy = {**DEFAULT_POLICY, **(spec.get("policy") or {})}
    if not 0.0 < float(policy["cutoff_pd"]) < 1.0:
        raise SpecError("policy.cutoff_pd must be in (0, 1)")
    fairness: dict[str, dict[str, Any]] = {}
    for col, conf in (spec.get("fairness") or {}).items():
        conf = dict(conf or {})
        if col == spec["target"]:
            raise SpecError("the target cannot be a fairness attribute")
        if conf.get("bands") is not None:
            bands = [float(b) for b in conf["bands"]]
            if not bands or bands != sorted(set(bands)):
                raise SpecError(f"fairness.{col}.bands must be strictly increasing")
            conf["bands"] = conf["bands"]
        fairness[str(col)] = conf
    report = dict(spec.get("report") or {})
    limitations = report.get("limitations") or []
    if not isinstance(limitations, list) or not all(isinstance(x, str) for x in limitations):
        raise SpecError("report.limitations must be a list of strings")
    report["limitations"] = limitations
    return {
        "target": str(spec["target"]),
        "bad_value": str(spec["bad_value"]),
        "features": features,
        "derived": derived,
        "exclude": exclude,
        "fairness": fairness,
        "money_unit_minor": spec.get("money_unit_minor"),
        "scorecard": card,
        "gbt": gbt,
        "selection": selection,
        "reasons": reasons,
        "policy": policy,
        "report": report,
    }
