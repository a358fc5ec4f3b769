"""No data-set-specific code: a synthetic CSV with its own column names and spec trains,
evaluates and scores with no code change."""

import csv
import json
import math

import numpy as np
import pytest
from bnpl_model.cli import main
from bnpl_model.scorer import Scorer
from bnpl_model.spec import load_spec
from bnpl_model.train import load_dataset, train

SPEC = """
target: outcome
bad_value: default
money_unit_minor: 100
features:
  tenure_months: {type: numeric, monotone: increasing, reason: "Short customer tenure"}
  utilisation: {type: numeric, monotone: decreasing, reason: "High utilisation"}
  region: {type: categorical, reason: "Region"}
  income_k: {type: numeric, money: true, reason: "Income"}
  loan_k: {type: numeric, money: true, monotone: decreasing, reason: "Loan size"}
derived:
  burden: {expr: "loan_k / income_k", monotone: decreasing, reason: "Loan is large for the income"}
exclude: [gender]
fairness:
  gender: {}
  tenure_months: {bands: [0, 12, 36]}
selection: {folds: 2}
reasons: {max: 3, min_points: 2}
policy: {cutoff_pd: 0.3}
scorecard: {grades: {A: 0.1, B: 0.2, C: 0.35, D: 0.5, E: 1.0}}
"""


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    d = tmp_path_factory.mktemp("synthetic")
    rng = np.random.default_rng(7)
    n = 900
    tenure = rng.integers(0, 120, n)
    util = rng.random(n)
    region = rng.choice(["north", "south", "east", "west", "islands"], n, p=[0.3, 0.3, 0.2, 0.18, 0.02])
    income = rng.lognormal(3, 0.5, n)
    loan = rng.lognormal(2, 0.7, n)
    gender = rng.choice(["f", "m"], n)
    z = -1.0 - 0.02 * tenure + 2.0 * util + 0.8 * (loan / income) + 0.5 * (region == "east")
    bad = rng.random(n) < 1 / (1 + np.exp(-z))
    path = d / "loans.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["outcome", "tenure_months", "utilisation", "region", "income_k", "loan_k", "gender"])
        for i in range(n):
            inc = "" if i % 17 == 0 else f"{income[i]:.3f}"
            w.writerow(["default" if bad[i] else "paid", tenure[i], f"{util[i]:.4f}", region[i], inc,
                        f"{loan[i]:.3f}", gender[i]])  # fmt: skip
    spec = d / "loans.yaml"
    spec.write_text(SPEC)
    return path, spec, d


def test_train_and_score(synthetic):
    data, spec, d = synthetic
    res = train(data, spec, d / "art", name="loans", baselines=False, plots=False, log=lambda *a: None)
    m = res.model
    assert m["model_version"].startswith("loans-") and m["money_unit_minor"] == 100
    assert [f["name"] for f in m["input_features"]] == ["tenure_months", "utilisation", "region", "income_k", "loan_k"]
    assert [g["grade"] for g in m["grades"]] == list("ABCDE")
    assert m["metrics"]["cv_auc_mean"] > 0.65
    cands = m["selection"]["candidates"]  # the plain logistic regression is a candidate, never better
    assert "logit" in cands and cands[m["candidate"]]["auc_mean"] == max(c["auc_mean"] for c in cands.values())
    assert {r["group"] for r in m["fairness"]["gender"]["groups"]} == {"f", "m"}
    s = Scorer.from_path(d / "art")
    with open(data, newline="") as fh:
        rows = list(csv.DictReader(fh))
    sk = res.pipeline.predict_proba(res.X)[:, 1]
    assert np.max(np.abs(np.array([p["pd"] for p in s.score(rows)]) - sk)) < 1e-9
    p = s.score([{"tenure_months": 1, "utilisation": 0.99, "region": "east", "income_k": 10, "loan_k": 40,
                  "gender": "f"}])[0]  # fmt: skip
    assert p["grade"] in "ABCDE" and 1 <= len(p["reasons"]) <= 3
    assert all(r["feature"] != "gender" for r in p["reasons"])
    assert {r["code"] for r in p["reasons"]} <= {"R_TENURE_MONTHS", "R_UTILISATION", "R_REGION", "R_INCOME_K",
                                                  "R_LOAN_K", "R_BURDEN"}  # fmt: skip
    # every family works on this data too, and its artifact scores exactly as its pipeline
    X, _ = load_dataset(data, load_spec(spec))
    for other in {"scorecard", "gbt", "logit"} - {m["family"]}:
        res2 = train(data, spec, d / other, family=other, baselines=False, plots=False, log=lambda *a: None)
        s2 = Scorer.from_path(d / other)
        assert np.max(np.abs(s2.predict_pd(rows) - res2.pipeline.predict_proba(X)[:, 1])) < 1e-9
        assert [s2.score([r])[0] for r in rows[:40]] == s2.score(rows)[:40]


def test_champion_never_below_plain_logistic_regression(tmp_path):
    """On data where a linear model is right (five continuous effects), binning and stumps lose
    accuracy: the logistic regression, always a candidate, then wins the selection."""
    rng = np.random.default_rng(11)
    n = 1500
    x = rng.normal(size=(n, 5))
    bad = rng.random(n) < 1 / (1 + np.exp(-(x @ np.array([1.2, -1.0, 0.8, 0.6, -0.5]))))
    path = tmp_path / "linear.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["y", *(f"x{j}" for j in range(5))])
        for i in range(n):
            w.writerow(["1" if bad[i] else "0", *(f"{v:.5f}" for v in x[i])])
    spec = tmp_path / "linear.yaml"
    spec.write_text(
        "target: y\nbad_value: '1'\nselection: {candidates: [scorecard, gbt], folds: 3}\nfeatures:\n"
        + "".join(f"  x{j}: {{type: numeric, reason: 'Input x{j} raised the risk.'}}\n" for j in range(5))
    )
    res = train(path, spec, tmp_path / "art", baselines=True, plots=False, log=lambda *a: None)
    cands = res.model["selection"]["candidates"]
    assert set(cands) == {"scorecard", "gbt", "logit"}
    assert cands[res.model["candidate"]]["auc_mean"] >= cands["logit"]["auc_mean"]
    assert res.model["family"] == "logit"
    # the candidate is the plain one-hot logistic regression of the report's baseline
    base = res.model["selection"]["baselines"]["logit_onehot"]["auc_mean"]
    assert abs(cands["logit"]["auc_mean"] - base) < 1e-6


def test_evaluate_cli(synthetic, capsys):
    data, spec, _ = synthetic
    assert main(["evaluate", "--data", str(data), "--spec", str(spec), "--cv", "2x1"]) == 0
    out = json.loads(capsys.readouterr().out)
    for k in ("auc", "gini", "ks", "brier"):
        assert isinstance(out[k], float) and math.isfinite(out[k])
    assert out["champion"] in ("scorecard", "gbt", "logit") and out["folds"] == 2 and out["cv"] == "2x1"
    assert set(out["candidates"]) == {"scorecard", "gbt", "logit"}  # logit: always a candidate
    assert set(out["baselines"]) == {"logit_onehot", "hgb_default", "gbc_default"}
    assert abs(out["gini"] - (2 * out["auc"] - 1)) < 1e-12
    with pytest.raises(SystemExit):
        main(["evaluate", "--data", str(data), "--spec", str(spec), "--cv", "five"])
