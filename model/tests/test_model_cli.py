import json
import subprocess
import sys

from bnpl_model.cli import main


def test_cli_train(tmp_path, capsys, small_data, spec_path):
    out = tmp_path / "art"
    report = tmp_path / "report"
    args = ["train", "--data", str(small_data), "--spec", str(spec_path), "--out", str(out), "--folds", "2",
            "--family", "scorecard", "--no-baselines", "--report-dir", str(report)]  # fmt: skip
    assert main(args) == 0
    assert "champion: scorecard" in capsys.readouterr().out
    assert json.loads((out / "model.json").read_text())["model_features"]
    assert sorted(p.name for p in report.iterdir()) == sorted(
        [
            "REPORT.md",
            "roc.png",
            "ks.png",
            "calibration.png",
            "score_distribution.png",
            "decision_surface.png",
            "fairness.png",
        ]
    )


def test_cli_help():
    r = subprocess.run([sys.executable, "-m", "bnpl_model", "serve", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "--artifact" in r.stdout
    r = subprocess.run([sys.executable, "-m", "bnpl_model", "--help"], capture_output=True, text=True)
    assert all(c in r.stdout for c in ("train", "evaluate", "package", "serve"))
