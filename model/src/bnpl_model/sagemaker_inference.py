"""SageMaker scikit-learn container handler, shipped as ``code/inference.py`` in model.tar.gz.

Only the four handler functions the container calls. They use plain functions of
the vendored ``bnpl_model`` modules next to this file (``code/bnpl_model/``:
scorer, expr, payload; numpy and the standard library only), so the container
needs no ``bnpl_model`` install and never imports scikit-learn for inference.

Errors carry an HTTP ``status_code`` (400 malformed payload or invalid feature,
415 unsupported content type, 406 unsupported accept type); when the container's
``sagemaker_inference`` toolkit is present they subclass its error type, which
the toolkit turns into a response with that status.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from bnpl_model.payload import CSV, JSON, PayloadError, media_type, parse_csv, parse_instances
from bnpl_model.scorer import InvalidInput, Scorer

try:  # pragma: no cover - only inside the SageMaker container
    from sagemaker_inference.errors import BaseInferenceToolkitError as _ToolkitError
except ImportError:  # pragma: no cover
    _ToolkitError = Exception


class InferenceError(_ToolkitError):
    def __init__(self, status_code: int, error_type: str, message: str):
        Exception.__init__(self, message)
        self.status_code = status_code
        self.phrase = error_type
        self.error_type = error_type
        self.message = message


def model_fn(model_dir: str) -> Scorer:
    """Load the artifact (``model.json`` at the root of model.tar.gz)."""
    return Scorer.from_path(model_dir)


def input_fn(request_body: Any, request_content_type: str | None) -> dict[str, Any]:
    """JSON ``{"instances": [...]}`` or headerless CSV -> a batch for ``predict_fn``."""
    ctype = media_type(request_content_type)
    try:
        if ctype == CSV:
            text = request_body.decode("utf-8") if isinstance(request_body, bytes | bytearray) else request_body
            # columns are named in predict_fn, which knows the model's input order
            rows = [r for r in csv.reader(io.StringIO(text)) if r and not (len(r) <= 1 and not r[0].strip())]
            if not rows:
                raise PayloadError(400, "InvalidInput", "CSV body has no rows")
            return {"csv": text}
        return {"instances": parse_instances(request_body, request_content_type, [])}
    except UnicodeDecodeError:
        raise InferenceError(400, "MalformedRequest", "body is not UTF-8") from None
    except PayloadError as exc:
        raise InferenceError(exc.status_code, exc.error_type, exc.message) from None


def predict_fn(input_data: dict[str, Any], model: Scorer) -> list[dict[str, Any]]:
    """Predictions (PD, score, grade, reasons, model version) for every instance; never bare labels."""
    try:
        if "csv" in input_data:
            instances = parse_csv(input_data["csv"], model.feature_names)
        else:
            instances = input_data["instances"]
        return model.score(instances)
    except PayloadError as exc:
        raise InferenceError(exc.status_code, exc.error_type, exc.message) from None
    except InvalidInput as exc:
        raise InferenceError(400, "InvalidInput", str(exc)) from None


def output_fn(prediction: list[dict[str, Any]], accept: str | None) -> str:
    """``application/json`` (default): ``{"predictions": [...]}``; ``text/csv``: pd,score,grade,reason codes."""
    atype = media_type(accept)
    if atype in ("", "*/*", JSON):
        return json.dumps({"predictions": prediction})
    if atype == CSV:
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        for p in prediction:
            w.writerow([repr(p["pd"]), p["score"], p["grade"], ";".join(r["code"] for r in p["reasons"])])
        return out.getvalue()
    raise InferenceError(406, "NotAcceptable", "accept application/json or text/csv")
