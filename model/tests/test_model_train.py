import json
import re

import numpy as np
from bnpl_model.spec import load_spec
from bnpl_model.train import load_dataset, train


def test_artifact_written(trained, artifact_dir):
    files = sorted(p.name for p in artifact_dir.iterdir())
    assert files == ["REPORT.md", "model.json"]
    m = json.loads((artifact_dir / "model.json").read_text())
    assert re.fullmatch(r"credit-scorecard-\d{8}-[0-9a-f]{8}", m["model_version"])
    assert m["money_unit_minor"] == 600
    assert [f["name"] for f in m["input_features"]] == [
        "Seniority", "Home", "Time", "Age", "Records", "Job",
        "Expenses", "Income", "Assets", "Debt", "Amount", "Price",
    ]  # fmt: skip
    sc = m["scaling"]
    assert sc["pdo"] == 20 and sc["base_score"] == 600 and sc["base_odds"] == 50
    assert [g["grade"] for g in m["grades"]] == ["A", "B", "C", "D", "E"]
    assert m["metrics"]["cv_auc_mean"] > 0.82
    assert "CV ROC AUC" in (artifact_dir / "REPORT.md").read_text()
    assert m["fairness"]["Age"]["bands"]


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


def test_monotone_bins(trained):
    for f in trained.model["model_features"]:
        if f["type"] != "numeric" or not f["monotone"]:
            continue
        w = np.asarray(f["bins"]["woe"])
        d = np.diff(w) if f["monotone"] == "increasing" else -np.diff(w)
        assert (d >= -1e-12).all(), f["name"]
    for f in trained.model["model_features"]:
        assert f["coefficient"] <= 0.0


def test_training_is_deterministic(trained, tmp_path, data_path, spec_path):
    again = train(data_path, spec_path, tmp_path / "a", folds=2, log=lambda *a: None)
    assert again.model["model_version"] == trained.model["model_version"]
    assert again.model["model_features"] == trained.model["model_features"]
    assert again.model["intercept"] == trained.model["intercept"]


def test_dataset_loader(data_path, spec_path):
    spec = load_spec(spec_path)
    X, y = load_dataset(data_path, spec)
    assert X.shape == (4454, 12)
    assert abs(y.mean() - 0.2815) < 0.001
