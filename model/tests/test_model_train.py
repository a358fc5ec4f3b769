import json
import re

import numpy as np
import pytest
from bnpl_model.families import build
from bnpl_model.spec import SpecError, load_spec, validate
from bnpl_model.train import load_dataset, platt, train

PLOTS = {"roc.png", "ks.png", "calibration.png", "score_distribution.png", "decision_surface.png", "fairness.png"}


def test_artifact_written(trained, artifact_dir):
    files = {p.name for p in artifact_dir.iterdir()}
    assert files == {"REPORT.md", "model.json", *PLOTS}
    for name in PLOTS:
        data = (artifact_dir / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) < 200_000
    m = json.loads((artifact_dir / "model.json").read_text())
    assert re.fullmatch(r"credit-scorecard-\d{8}-[0-9a-f]{8}", m["model_version"])
    assert m["schema_version"] == 3 and m["family"] in ("scorecard", "gbt", "logit")
    assert m["money_unit_minor"] == 600
    assert [f["name"] for f in m["input_features"]] == [
        "Seniority", "Home", "Time", "Age", "Records", "Job",
        "Expenses", "Income", "Assets", "Debt", "Amount", "Price",
    ]  # fmt: skip
    sc = m["scaling"]
    assert sc["pdo"] == 20 and sc["base_score"] == 600 and sc["base_odds"] == 50
    assert [g["grade"] for g in m["grades"]] == ["A", "B", "C", "D", "E"]
    assert m["metrics"]["cv_auc_mean"] > 0.83
    assert m["calibration"]["method"] == "platt" and 0.5 < m["calibration"]["slope"] < 2
    cands = m["selection"]["candidates"]
    assert {c["family"] for c in cands.values()} == {"scorecard", "gbt", "logit"}
    assert cands[m["candidate"]]["family"] == m["family"] and cands[m["candidate"]]["dropped"] == m["dropped_features"]
    champ = cands[m["candidate"]]["auc_mean"]
    assert champ >= cands["logit"]["auc_mean"]  # the plain logistic regression is never better
    assert champ >= max(c["auc_mean"] for c in cands.values()) - m["mitigation"]["auc_tolerance"]
    assert m["policy"]["cutoff_pd"] == 0.2
    report = (artifact_dir / "REPORT.md").read_text()
    for section in ("## Metrics", "## Calibration", "## Fairness", "### Mitigation", "## Decision surface",
                    "## Population stability", "## Limitations"):  # fmt: skip
        assert section in report
    for name in PLOTS:
        assert f"]({name})" in report


def test_fairness_air(trained):
    fr = trained.model["fairness"]
    assert set(fr) == {"Age", "Marital"}
    assert fr["Age"]["is_model_input"] and not fr["Marital"]["is_model_input"]
    assert fr["Age"]["cutoff_pd"] == 0.2
    for col in fr.values():
        rows = col["groups"]
        assert sum(r["n"] for r in rows) == trained.model["metrics"]["n"]
        big = [r for r in rows if r["n"] >= col["min_group"]]
        assert max(r["air"] for r in big) == pytest.approx(1.0)
        for r in rows:
            assert 0 <= r["approval_rate"] <= 1
            assert r["flag"] == (r["air"] < 0.8 and r["n"] >= col["min_group"])
    assert {r["group"] for r in fr["Marital"]["groups"]} >= {"married", "single"}


def test_cutoff_parameter(tmp_path, data_path, spec_path, trained):
    res = train(data_path, spec_path, tmp_path / "c", family="scorecard", folds=2, cutoff_pd=0.5,
                baselines=False, plots=False, log=lambda *a: None)  # fmt: skip
    assert res.model["policy"]["cutoff_pd"] == 0.5 and res.model["fairness"]["Age"]["cutoff_pd"] == 0.5
    assert res.model["metrics"]["oof_approval_rate_at_cutoff"] > trained.model["metrics"]["oof_approval_rate_at_cutoff"]


def test_marital_never_an_input(trained, scorer, rows):
    m = trained.model
    assert "Marital" in m["excluded"]
    assert "Marital" not in {f["name"] for f in m["input_features"]}
    assert "Marital" not in {f["name"] for f in m["model_features"]}
    for f in m["model_features"]:
        assert "Marital" not in (f.get("expr") or "")
    with_marital = scorer.score(rows[:300])
    without = scorer.score([{k: v for k, v in r.items() if k != "Marital"} for r in rows[:300]])
    assert with_marital == without
    flipped = scorer.score([{**r, "Marital": "widow"} for r in rows[:300]])
    assert flipped == with_marital
    for p in with_marital:
        assert all(r["feature"] != "Marital" for r in p["reasons"])


@pytest.mark.parametrize("which", ["champion", "other"])
def test_monotone_tables(which, trained, trained_other):
    res = trained if which == "champion" else trained_other
    for f in res.model["model_features"]:
        if f["type"] != "numeric" or not f["monotone"]:
            continue
        v = np.asarray(f["table"]["values"])  # log-odds of bad: must fall as the score direction rises
        d = -np.diff(v) if f["monotone"] == "increasing" else np.diff(v)
        assert (d >= -1e-12).all(), f["name"]
    if res.model["family"] == "scorecard":
        for f in res.model["model_features"]:
            assert f["detail"]["coefficient"] <= 0.0


def test_training_is_deterministic(tmp_path, small_data, spec_path):
    kw = {"folds": 2, "baselines": False, "plots": False, "log": lambda *a: None}
    a = train(small_data, spec_path, tmp_path / "a", **kw)
    b = train(small_data, spec_path, tmp_path / "b", **kw)
    assert a.model["model_version"] == b.model["model_version"]
    assert a.model["model_features"] == b.model["model_features"]
    assert a.model["intercept"] == b.model["intercept"] and a.model["calibration"] == b.model["calibration"]


def test_dataset_loader(data_path, spec_path):
    spec = load_spec(spec_path)
    X, y = load_dataset(data_path, spec)
    assert X.shape == (4454, 12)
    assert abs(y.mean() - 0.2815) < 0.001


def test_platt_recovers_parameters():
    rng = np.random.default_rng(0)
    m = rng.normal(size=20000)
    y = (rng.random(20000) < 1 / (1 + np.exp(-(1.7 * m - 0.4)))).astype(int)
    a, b = platt(m, y)
    assert abs(a - 1.7) < 0.1 and abs(b + 0.4) < 0.1


def test_gbt_uses_monotone_constraints(spec_path):
    spec = load_spec(spec_path)
    est = build("gbt", spec)
    assert est.family == "gbt"
    X, y = load_dataset(spec_path.parent.parent / "data" / "credit_data.csv", spec)
    est.fit(X[:1500], y[:1500])
    cst = dict(zip([f["name"] for f in est.features_], est.hgb_.monotonic_cst, strict=True))
    assert cst["Income"] == -1 and cst["Time"] == 1 and cst["Home"] == 0
    assert est.hgb_.max_depth == 1


def test_spec_validation(spec_path):
    spec = load_spec(spec_path)
    raw = {"target": "t", "bad_value": "1", "features": {"a": {"type": "numeric", "reason": "x"}}}
    assert validate(raw)["policy"]["cutoff_pd"] == 0.2 and validate(raw)["reasons"]["min_points"] == 3
    for bad in [
        {**raw, "gbt": {"max_depth": 3}},
        {**raw, "selection": {"candidates": ["forest"]}},
        {**raw, "policy": {"cutoff_pd": 1.5}},
        {**raw, "exclude": ["a"]},
        {**raw, "features": {"a": {"type": "numeric"}}},
        {**raw, "fairness": {"a": {"bands": [30, 20]}}},
    ]:
        with pytest.raises(SpecError):
            validate(bad)
    assert spec["exclude"] == ["Marital"]
