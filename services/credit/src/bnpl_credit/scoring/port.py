"""The one port through which the credit service reaches the model (its SageMaker contract:
``POST /invocations`` with ``{"instances": [row]}``, answered by ``{"predictions": [...]}``)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

GRADES = ("A", "B", "C", "D", "E")

# One instance of the model's input row, as the SageMaker contract sends it.
FeatureRow = dict[str, int | float | str]


class ScorerError(Exception):
    """The scorer failed, timed out or answered something unusable."""


class MalformedScore(ScorerError):
    """The scorer answered, but not in the contract's shape."""


class FeatureMismatch(ScorerError):
    """The model does not take exactly the features the mapping produces: it would score
    instances with inputs missing (or ignore some) without saying so."""


def check_model_inputs(declared: Iterable[str], produced: Iterable[str]) -> None:
    """Raise :class:`FeatureMismatch` unless the model's declared inputs are the mapping's features."""
    declared_set, produced_set = set(declared), set(produced)
    missing, unknown = sorted(declared_set - produced_set), sorted(produced_set - declared_set)
    if missing or unknown:
        raise FeatureMismatch(
            f"the model's inputs and the feature mapping differ: the model needs {missing or 'nothing more'}"
            f" that the mapping does not produce; it does not declare {unknown or 'nothing else'}"
        )


@dataclass(frozen=True, slots=True)
class ScoreReason:
    code: str
    feature: str
    description: str


@dataclass(frozen=True, slots=True)
class ScoreResult:
    pd: float
    score: int
    grade: str
    model_version: str
    reasons: tuple[ScoreReason, ...] = field(default_factory=tuple)

    def to_prediction(self) -> dict[str, Any]:
        """The contract's ``predictions[i]`` object (what :func:`parse_prediction` reads back)."""
        return {
            "pd": self.pd,
            "score": self.score,
            "grade": self.grade,
            "model_version": self.model_version,
            "reasons": [{"code": r.code, "feature": r.feature, "description": r.description} for r in self.reasons],
        }


class Scorer(Protocol):
    async def score(self, features: FeatureRow) -> ScoreResult: ...

    async def aclose(self) -> None: ...


def parse_prediction(prediction: Any) -> ScoreResult:
    """Validate one ``predictions[i]`` object of the SageMaker contract."""
    if not isinstance(prediction, dict):
        raise MalformedScore("prediction is not an object")
    pd, score, grade = prediction.get("pd"), prediction.get("score"), prediction.get("grade")
    version, reasons = prediction.get("model_version"), prediction.get("reasons", [])
    if isinstance(pd, bool) or not isinstance(pd, int | float) or not math.isfinite(pd) or not 0.0 <= pd <= 1.0:
        raise MalformedScore("pd missing or out of range")
    if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
        raise MalformedScore("score missing")
    if grade not in GRADES:
        raise MalformedScore("grade missing or unknown")
    if not isinstance(version, str) or not version:
        raise MalformedScore("model_version missing")
    if not isinstance(reasons, list):
        raise MalformedScore("reasons is not a list")
    parsed = []
    for r in reasons:
        if not isinstance(r, dict) or not isinstance(r.get("code"), str) or not isinstance(r.get("description"), str):
            raise MalformedScore("reason without code or description")
        parsed.append(ScoreReason(code=r["code"], feature=str(r.get("feature", "")), description=r["description"]))
    return ScoreResult(pd=float(pd), score=round(score), grade=grade, model_version=version, reasons=tuple(parsed))


def parse_invocation_body(body: Any) -> ScoreResult:
    """Validate a whole ``/invocations`` answer holding exactly one prediction."""
    if not isinstance(body, dict) or not isinstance(body.get("predictions"), list) or len(body["predictions"]) != 1:
        raise MalformedScore("answer has no single prediction")
    return parse_prediction(body["predictions"][0])
