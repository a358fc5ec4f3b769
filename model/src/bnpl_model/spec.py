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
DEFAULT_SELECTION: dict[str, Any] = {"candidates": ["scorecard", "gbt", "logit"], "folds": 5, "seed": 0}
DEFAULT_REASONS: dict[str, Any] = {"max": 4, "min_points": 3.0}
DEFAULT_POLICY: dict[str, Any] = {"cutoff_pd": 0.20}
DEFAULT_MITIGATION: dict[str, Any] = {"auc_tolerance": 0.003, "max_proxies": 2, "target_air": 0.8}
FAMILIES = ("scorecard", "gbt", "logit")
BASELINE_FAMILY = "logit"  # always a candidate: the champion never scores below it
OUTCOMES = ("approved", "referred", "declined", "not approved")

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
    if BASELINE_FAMILY not in selection["candidates"]:
        selection["candidates"] = [*selection["candidates"], BASELINE_FAMILY]
    reasons = {**DEFAULT_REASONS, **(spec.get("reasons") or {})}
    if not 0 <= int(reasons["max"]) <= 10 or float(reasons["min_points"]) < 0:
        raise SpecError("reasons.max must be 0..10 and reasons.min_points >= 0")
    policy = {**DEFAULT_POLICY, **(spec.get("policy") or {})}
    if not 0.0 < float(policy["cutoff_pd"]) < 1.0:
        raise SpecError("policy.cutoff_pd must be in (0, 1)")
    policy.setdefault("refer_pd", policy["cutoff_pd"])
    if not float(policy["cutoff_pd"]) <= float(policy["refer_pd"]) < 1.0:
        raise SpecError("policy.refer_pd must be in [cutoff_pd, 1)")
    reference = _reference(spec.get("reference"), features)
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
    mitigation = None
    if spec.get("mitigation"):
        mitigation = {**DEFAULT_MITIGATION, **spec["mitigation"]}
        if mitigation.get("attribute") not in fairness:
            raise SpecError("mitigation.attribute must be one of the fairness attributes")
        if not 0.0 <= float(mitigation["auc_tolerance"]) < 0.5 or int(mitigation["max_proxies"]) < 0:
            raise SpecError("mitigation.auc_tolerance must be in [0, 0.5) and max_proxies >= 0")
    surface, archetypes = _surface(spec, features)
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
        "reference": reference,
        "mitigation": mitigation,
        "decision_surface": surface,
        "archetypes": archetypes,
        "report": report,
    }


def _reference(raw: Any, features: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The policy's reference applicant: one value (or null = missing) for every input."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise SpecError("reference must map every input feature to a value")
    missing = [n for n in features if n not in raw]
    unknown = [str(n) for n in raw if n not in features]
    if missing or unknown:
        raise SpecError(f"reference: missing inputs {missing}, unknown names {unknown}")
    out: dict[str, Any] = {}
    for name, v in raw.items():
        if features[name]["type"] == "numeric" and v is not None and not isinstance(v, int | float):
            raise SpecError(f"reference.{name} must be a number or null")
        out[str(name)] = v if features[name]["type"] == "numeric" or v is None else str(v)
    return out


def _surface(spec: dict[str, Any], features: dict[str, dict[str, Any]]) -> tuple[dict | None, dict]:
    raw = spec.get("decision_surface")
    archetypes = dict(spec.get("archetypes") or {})
    if not raw:
        if archetypes:
            raise SpecError("archetypes need a decision_surface (which inputs are the order)")
        return None, {}
    surface = dict(raw)
    for key in ("amount", "price", "term"):
        name = surface.get(key)
        if name is None and key == "price":
            continue
        if name not in features or features[name]["type"] != "numeric":
            raise SpecError(f"decision_surface.{key} must name a numeric input feature")
    amounts = [int(a) for a in surface.get("amounts_minor") or []]
    terms = [float(t) for t in surface.get("terms") or []]
    if not amounts or amounts != sorted(set(amounts)) or not terms or terms != sorted(set(terms)):
        raise SpecError("decision_surface.amounts_minor and terms must be non-empty and increasing")
    if not spec.get("money_unit_minor"):
        raise SpecError("decision_surface needs money_unit_minor")
    share = float(surface.get("financed_share", 1.0))
    if not 0.0 < share <= 1.0:
        raise SpecError("decision_surface.financed_share must be in (0, 1]")
    by_term = {float(k): float(v) for k, v in (surface.get("financed_share_by_term") or {}).items()}
    if not all(0.0 < v <= 1.0 for v in by_term.values()):
        raise SpecError("decision_surface.financed_share_by_term values must be in (0, 1]")
    surface.update(amounts_minor=amounts, terms=surface["terms"], financed_share=share, financed_share_by_term=by_term)
    order = {surface["amount"], surface["term"], surface.get("price")}
    for name, a in archetypes.items():
        a = dict(a or {})
        inputs = dict(a.get("inputs") or {})
        unknown = [k for k in inputs if k not in features or k in order]
        if unknown:
            raise SpecError(f"archetype {name!r}: {unknown} are not profile inputs")
        for e in a.get("expect") or []:
            if e.get("outcome") not in OUTCOMES or int(e.get("amount_minor", 0)) <= 0:
                raise SpecError(f"archetype {name!r}: expect needs amount_minor > 0 and an outcome in {OUTCOMES}")
        archetypes[name] = {"description": str(a.get("description", "")), "inputs": inputs,
                            "expect": list(a.get("expect") or [])}  # fmt: skip
    return surface, archetypes
