import math

import numpy as np
import pytest
from bnpl_model import expr
from bnpl_model.scorer import InvalidInput, reason_code


def test_scorer_equals_sklearn(trained, scorer, rows):
    sk = trained.pipeline.predict_proba(trained.X)[:, 1]
    fast = np.array([p["pd"] for p in scorer.score(rows)])
    assert np.max(np.abs(sk - fast)) < 1e-9
    # typed values give the same as the CSV strings
    typed = [{k: (float(v) if v and k not in ("Home", "Records", "Job", "Marital", "Status") else (v or None))
              for k, v in r.items()} for r in rows[:500]]  # fmt: skip
    assert np.max(np.abs(scorer.predict_pd(typed) - sk[:500])) < 1e-9


def test_output_shape(scorer, good, poor):
    out = scorer.score([good, poor])
    for p in out:
        assert set(p) == {"pd", "score", "grade", "reasons", "model_version"}
        assert 0 < p["pd"] < 1 and isinstance(p["score"], int) and p["grade"] in "ABCDE"
        assert len(p["reasons"]) <= 4
        for r in p["reasons"]:
            assert set(r) == {"code", "feature", "description"}
            assert r["code"] == reason_code(r["feature"]) and r["code"].startswith("R_")
            assert r["description"]
    good, poor = out
    assert good["pd"] < 0.1 and good["grade"] in "AB"
    assert poor["pd"] > 0.5 and poor["grade"] == "E" and len(poor["reasons"]) == 4
    assert good["score"] > poor["score"]
    assert scorer.score([]) == []


def test_score_matches_scaling(scorer, trained, poor):
    sc = trained.model["scaling"]
    p = scorer.score([poor])[0]
    expected = sc["offset"] + sc["factor"] * math.log((1 - p["pd"]) / p["pd"])
    assert p["score"] == round(expected)


def test_missing_and_unknown(scorer, good):
    empty = scorer.score([{}])[0]
    nones = scorer.score([{k: None for k in good}])[0]
    blanks = scorer.score([{k: "" for k in good}])[0]
    assert empty == nones == blanks
    unknown = scorer.score([{**good, "Home": "castle", "Job": "astronaut"}])[0]
    assert 0 < unknown["pd"] < 1
    assert scorer.score([{**good, "Home": " OWNER "}]) == scorer.score([good])
    assert scorer.score([{**good, "Income": "250"}]) == scorer.score([good])
    zero = scorer.score([{**good, "Price": 0, "Time": 0, "Income": 0}])[0]
    assert 0 < zero["pd"] < 1


def test_invalid_input(scorer, good):
    with pytest.raises(InvalidInput, match="Income"):
        scorer.score([{**good, "Income": "lots"}])
    with pytest.raises(InvalidInput):
        scorer.score([{**good, "Age": True}])
    with pytest.raises(InvalidInput):
        scorer.score(["not an object"])
    with pytest.raises(InvalidInput):
        scorer.score({"instances": []})
    assert issubclass(InvalidInput, ValueError)


def test_monotone_features_never_reward_worse_values(scorer, rows, good, poor):
    """A worse value of a monotone input feature never gives a better score or PD."""
    model = scorer.model
    bases = [good, poor] + [{k: v for k, v in r.items()} for r in rows[::400]]
    for f in model["model_features"]:
        if f["source"] != "input" or not f["monotone"]:
            continue
        name = f["name"]
        values = sorted({1.0, *f["bins"]["edges"], *(e + 0.5 for e in f["bins"]["edges"]), 1e6})
        for base in bases:
            out = scorer.score([{**base, name: v} for v in values])
            pds = np.array([o["pd"] for o in out])
            scores = np.array([o["score"] for o in out])
            if f["monotone"] == "increasing":  # higher value must not raise the PD
                assert (np.diff(pds) <= 1e-12).all(), name
                assert (np.diff(scores) >= 0).all(), name
            else:
                assert (np.diff(pds) >= -1e-12).all(), name
                assert (np.diff(scores) <= 0).all(), name


def test_reasons_consistent(scorer, rows, good, poor):
    """Reasons are ordered by points lost and a feature at its best bin is never a reason."""
    for inst in [good, poor, *rows[::50]]:
        p = scorer.score([inst])[0]
        feats = [r["feature"] for r in p["reasons"]]
        assert len(set(feats)) == len(feats)
        for r in p["reasons"]:
            # moving the reason's feature to its best value must not worsen the score
            f = next(m for m in scorer.model["model_features"] if m["name"] == r["feature"])
            if f["source"] == "input" and f["monotone"]:
                best = 1e6 if f["monotone"] == "increasing" else 0.0
                assert scorer.score([{**inst, f["name"]: best}])[0]["score"] >= p["score"]


def test_expr_whitelist():
    cols = {"a": np.array([1.0, 2.0, np.nan]), "b": np.array([0.0, 4.0, 1.0])}
    out = expr.evaluate("a / b", cols)
    assert np.isnan(out[0]) and out[1] == 0.5 and np.isnan(out[2])
    assert expr.evaluate("-(a + 1) * 2 - b", cols)[1] == -10.0
    for bad in ["a ** 2", "__import__('os')", "a.real", "a if b else 1", "a // b", "[a]", "a < b"]:
        with pytest.raises(expr.ExpressionError):
            expr.evaluate(bad, cols)
    with pytest.raises(expr.ExpressionError):
        expr.evaluate("c + 1", cols)


def test_reasons_ordered_by_points_lost(scorer, rows):
    """Recompute each feature's lost points from model.json: reasons are the top 4, in order."""
    feats = scorer.model["model_features"]
    for inst in rows[::97]:
        p = scorer.score([inst])[0]
        lost = {}
        for f in feats:
            single = scorer._woe_matrix(scorer._columns([inst]), 1)[0]
            j = feats.index(f)
            pts = -scorer.factor * f["coefficient"] * single[j]
            if f["best_points"] - pts > 1e-9:
                lost[f["name"]] = f["best_points"] - pts
        expected = sorted(lost, key=lambda n: -lost[n])[:4]
        got = [r["feature"] for r in p["reasons"]]
        assert [round(lost[n], 9) for n in got] == [round(lost[n], 9) for n in expected]
        assert set(got) <= set(lost)


def test_scorer_imports_no_sklearn():
    import subprocess
    import sys

    code = "import sys, bnpl_model.scorer; assert 'sklearn' not in sys.modules and 'pandas' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
