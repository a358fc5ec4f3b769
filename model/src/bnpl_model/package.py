"""``package``: model.tar.gz laid out for the SageMaker scikit-learn container.

::

    model.json, REPORT.md, *.png      the artifact, at the root (SageMaker extracts it to /opt/ml/model)
    code/inference.py                 model_fn, input_fn, predict_fn, output_fn
    code/requirements.txt             numpy only
    code/bnpl_model/                  vendored: __init__, scorer, expr, payload (numpy + stdlib)

The tarball is reproducible: sorted entries, fixed mtime, owner and mode.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

VENDORED = ("__init__.py", "scorer.py", "expr.py", "payload.py")
REQUIREMENTS = "# the SageMaker scikit-learn container already ships numpy; nothing else is needed\nnumpy>=1.24\n"


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 0
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    tar.addfile(info, io.BytesIO(data))


def package(artifact_dir: str | Path, out: str | Path) -> Path:
    art = Path(artifact_dir)
    if not (art / "model.json").is_file():
        raise FileNotFoundError(f"{art}/model.json not found: train first")
    src = Path(__file__).resolve().parent
    files: dict[str, bytes] = {}
    for p in sorted(art.iterdir()):
        if p.is_file() and p.suffix in (".json", ".md", ".png"):
            files[p.name] = p.read_bytes()
    files["code/inference.py"] = (src / "sagemaker_inference.py").read_bytes()
    files["code/requirements.txt"] = REQUIREMENTS.encode()
    for name in VENDORED:
        files[f"code/bnpl_model/{name}"] = (src / name).read_bytes()
    out_path = Path(out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with (
        open(out_path, "wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for name in sorted(files):
            _add(tar, name, files[name])
    return out_path
