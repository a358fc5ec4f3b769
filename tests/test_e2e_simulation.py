"""The learning loop end to end, small: simulated shoppers through the public API, the lake,
retraining and an honest report (scripts/simulate.py; `make simulate` runs it larger)."""

from __future__ import annotations

from pathlib import Path

import pytest
from bnpl_model import registry as reg

from scripts.simulate import simulate

pytestmark = pytest.mark.e2e


def test_simulated_outcomes_reach_the_lake_and_a_challenger_is_reported(tmp_path: Path) -> None:
    report = simulate(
        shoppers=100, work=tmp_path, bad_share=0.5, step_days=14, min_rows=10, min_bad=2, log=lambda *a: None
    )
    sim = report["simulation"]
    assert sim["shoppers"] == 100 and sum(sim["decisions"].values()) == 100
    # every plan's window was observed, and the lake's label is each row's real outcome
    assert sim["plans"] > 0 and sim["plans not labelled"] == []
    assert sim["labelled in the lake"] == sim["plans"]
    assert sim["labels that differ from the rows' outcomes"] == 0
    assert report["outcomes"] == {"labelled": sim["plans"], "bad": sim["plans"] - sim["repaying"]}
    # a challenger was trained and measured on the newest outcomes, and the report does not overclaim
    window = report["window"]
    assert report["development"]["rows"] + window["rows"] == sim["plans"]
    assert report["conclusive"] is False and report["verdict"].startswith("Inconclusive")
    index = reg.load(tmp_path / "registry")
    assert index["champion"] == report["champion"]["model_version"]  # nothing promoted by itself
    challenger = report["challenger"]["model_version"]
    assert (reg.version_dir(tmp_path / "registry", challenger) / "report.md").exists()
