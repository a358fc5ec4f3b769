"""Scorer adapter that loads the model artifact into this process (``bnpl_model``, optional)."""

from __future__ import annotations

import asyncio
from typing import Any

from bnpl_credit.scoring.port import ScorerError, ScoreResult, parse_prediction


class InProcessScorer:
    """Loads ``bnpl_model.scorer.Scorer.from_path(dir)`` on first use; scores in a worker thread."""

    def __init__(self, artifact_dir: str) -> None:
        self._artifact_dir = artifact_dir
        self._model: Any = None
        self._lock = asyncio.Lock()

    async def _loaded(self) -> Any:
        if self._model is None:
            async with self._lock:
                if self._model is None:
                    try:
                        from bnpl_model.scorer import Scorer as ModelScorer  # optional dependency
                    except ImportError as exc:
                        raise ScorerError("bnpl_model is not installed") from exc
                    self._model = await asyncio.to_thread(ModelScorer.from_path, self._artifact_dir)
        return self._model

    async def score(self, features: dict[str, Any]) -> ScoreResult:
        model = await self._loaded()
        try:
            predictions = await asyncio.to_thread(model.score, [features])
        except Exception as exc:  # the model's own errors (invalid input) become a scorer failure
            raise ScorerError(f"in-process model failed: {type(exc).__name__}") from exc
        if not predictions:
            raise ScorerError("in-process model returned nothing")
        return parse_prediction(predictions[0])

    async def aclose(self) -> None:
        self._model = None
