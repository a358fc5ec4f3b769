import json
import subprocess
import sys

from bnpl_model.cli import main


def test_cli_train(tmp_path, capsys, data_path, spec_path):
    out = tmp_path / "art"
    assert main(["train", "--data", str(data_path), "--spec", str(spec_path), "--out", str(out), "--folds", "2"]) == 0
    assert "CV AUC" in capsys.readouterr().out
    assert json.loads((out / "model.json").read_text())["model_features"]


def test_cli_help():
    r = subprocess.run([sys.executable, "-m", "bnpl_model", "serve", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "--artifact" in r.stdout
