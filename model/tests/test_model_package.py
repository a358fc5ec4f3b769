"""model.tar.gz for the SageMaker scikit-learn container: extract it and call the four handler
functions the way the container does, with only the tarball's code/ on the import path."""

import json
import subprocess
import sys
import tarfile
import textwrap

import pytest
from bnpl_model.package import package

DRIVER = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, sys.argv[1] + "/code")
    import inference
    import bnpl_model
    assert bnpl_model.__file__.startswith(sys.argv[1]), bnpl_model.__file__
    assert "sklearn" not in sys.modules and "fastapi" not in sys.modules
    model = inference.model_fn(sys.argv[1])
    out = []
    for body, ctype, accept in json.loads(sys.stdin.read()):
        try:
            data = inference.input_fn(body.encode() if ctype != "str" else body, ctype)
            pred = inference.predict_fn(data, model)
            out.append({"ok": inference.output_fn(pred, accept)})
        except Exception as exc:
            out.append({"status": getattr(exc, "status_code", None), "type": type(exc).__name__, "msg": str(exc)})
    print(json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def extracted(artifact_dir, tmp_path_factory):
    d = tmp_path_factory.mktemp("pkg")
    tgz = package(artifact_dir, d / "model.tar.gz")
    with tarfile.open(tgz) as tar:
        names = tar.getnames()
        tar.extractall(d / "x", filter="data")
    return d, names, tgz


def test_layout(extracted, artifact_dir):
    _, names, tgz = extracted
    assert "model.json" in names and "REPORT.md" in names and "roc.png" in names
    assert "code/inference.py" in names and "code/requirements.txt" in names
    assert {"code/bnpl_model/scorer.py", "code/bnpl_model/expr.py", "code/bnpl_model/payload.py"} <= set(names)
    assert not any(n.startswith("/") or ".." in n for n in names)
    # reproducible
    again = package(artifact_dir, tgz.parent / "again.tar.gz")
    assert again.read_bytes() == tgz.read_bytes()


def test_handler_has_only_the_four_functions(extracted):
    d, _, _ = extracted
    src = (d / "x" / "code" / "inference.py").read_text()
    defs = [line.split("(")[0][4:] for line in src.splitlines() if line.startswith("def ")]
    assert defs == ["model_fn", "input_fn", "predict_fn", "output_fn"]


def _run(d, cases):
    r = subprocess.run(
        [sys.executable, "-c", DRIVER, str(d / "x")], input=json.dumps(cases), capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_container_calls(extracted, scorer, good, poor):
    d, _, _ = extracted
    names = scorer.feature_names
    csv_body = "\n".join(",".join(str(i[n]) for n in names) for i in (good, poor)) + "\n"
    cases = [
        [json.dumps({"instances": [good, poor]}), "application/json", "application/json"],
        [csv_body, "text/csv", "application/json"],
        [csv_body, "text/csv", "text/csv"],
        ["{not json", "application/json", "application/json"],
        [json.dumps({"instances": {"Age": 3}}), "application/json", "application/json"],
        [json.dumps({"instances": [{"Income": "lots"}]}), "application/json", "application/json"],
        ["1,2,3\n", "text/csv", "application/json"],
        ["", "text/csv", "application/json"],
        ["x", "text/plain", "application/json"],
        [json.dumps({"instances": [good]}), "application/json", "application/xml"],
    ]
    out = _run(d, cases)
    expected = scorer.score([good, poor])
    assert json.loads(out[0]["ok"]) == {"predictions": expected}
    assert json.loads(out[1]["ok"]) == {"predictions": expected}
    lines = out[2]["ok"].splitlines()
    assert len(lines) == 2 and float(lines[0].split(",")[0]) == expected[0]["pd"]
    assert lines[1].split(",")[2] == expected[1]["grade"]
    assert [o.get("status") for o in out[3:]] == [400, 400, 400, 400, 400, 415, 406]
    assert "Income" in out[5]["msg"]
