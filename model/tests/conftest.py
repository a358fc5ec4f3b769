from __future__ import annotations

import csv
from pathlib import Path

import pytest
from bnpl_model.scorer import Scorer
from bnpl_model.train import TrainResult, train

MODEL_DIR = Path(__file__).resolve().parents[1]
DATA = MODEL_DIR / "data" / "credit_data.csv"
SPEC = MODEL_DIR / "specs" / "credit_data.yaml"


@pytest.fixture(scope="session")
def trained(tmp_path_factory) -> TrainResult:
    """Champion selection as shipped (3 folds to keep the tests fast), with report and plots."""
    out = tmp_path_factory.mktemp("artifact") / "credit-scorecard"
    return train(DATA, SPEC, out, folds=3, baselines=False, log=lambda *a: None)


@pytest.fixture(scope="session")
def trained_other(trained, tmp_path_factory) -> TrainResult:
    """The family that did not win, trained alone."""
    other = "scorecard" if trained.model["family"] == "gbt" else "gbt"
    out = tmp_path_factory.mktemp("artifact") / "other"
    return train(DATA, SPEC, out, family=other, folds=2, baselines=False, plots=False, log=lambda *a: None)


@pytest.fixture(scope="session")
def scorer_other(trained_other) -> Scorer:
    return Scorer.from_path(trained_other.out_dir)


@pytest.fixture(scope="session")
def artifact_dir(trained) -> Path:
    return trained.out_dir


@pytest.fixture(scope="session")
def scorer(artifact_dir) -> Scorer:
    return Scorer.from_path(artifact_dir)


@pytest.fixture(scope="session")
def rows() -> list[dict[str, str]]:
    with open(DATA, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


_GOOD = {
    "Seniority": 15,
    "Home": "owner",
    "Time": 24,
    "Age": 45,
    "Records": "no",
    "Job": "fixed",
    "Expenses": 60,
    "Income": 250,
    "Assets": 10000,
    "Debt": 0,
    "Amount": 600,
    "Price": 1400,
}
_POOR = {
    "Seniority": 0,
    "Home": "rent",
    "Time": 60,
    "Age": 22,
    "Records": "yes",
    "Job": "partime",
    "Expenses": 75,
    "Income": 80,
    "Assets": 0,
    "Debt": 500,
    "Amount": 1500,
    "Price": 1550,
}


@pytest.fixture(scope="session")
def good() -> dict:
    """A strong applicant (model units)."""
    return dict(_GOOD)


@pytest.fixture(scope="session")
def poor() -> dict:
    """A weak applicant (model units)."""
    return dict(_POOR)


@pytest.fixture(scope="session")
def data_path() -> Path:
    return DATA


@pytest.fixture(scope="session")
def spec_path() -> Path:
    return SPEC


@pytest.fixture(scope="session")
def small_data(tmp_path_factory) -> Path:
    """The first 1,500 rows of credit_data: for tests that only need *a* training run."""
    path = tmp_path_factory.mktemp("small") / "credit_small.csv"
    lines = DATA.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:1501]), encoding="utf-8")
    return path
