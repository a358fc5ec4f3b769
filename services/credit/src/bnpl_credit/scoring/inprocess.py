"""Scorer adapter that loads the model artifact into this process (``bnpl_model``, optional)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from bnpl_credit.scoring.port import FeatureMismatch, ScorerError, ScoreResult, check_model_inputs, parse_prediction

log = logging.getLogger("bnpl.credit.scoring")


class InProcessScorer:
    """Loads ``bnpl_model.scorer.Scorer.from_path(dir)`` on first use (or at startup, :meth:`verify`);
    scores in a worker thread. With ``expected_features``, a model whose declared inputs
    (``feature_names``) differ from them is refused: every call fails (REFERRED), never scores."""

    def __init__(self, artifact_dir: str, *, expected_features: Sequence[str] | None = None) -> None:
        self._artifact_dir = artifact_dir
        self._expected = tuple(expected_features) if expected_features is not None else None
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
                    model = await asyncio.to_thread(ModelScorer.from_path, self._artifact_dir)
                    declared = getattr(model, "feature_names", None)
                    if self._expected is not None and declared is not None:
                        check_model_inputs(declared, self._expected)
                    self._model = model
        return self._model

    async def verify(self) -> None:
        """Load the model now and check its inputs (the app's startup). Raises
        :class:`FeatureMismatch`; other load failures are left to the first call (REFERRED)."""
        try:
            await self._loaded()
        except FeatureMismatch:
            raise
        except Exception as exc:  # startup goes on; every decision is REFERRED until the model loads
            log.warning("in-process model not loaded at startup", extra={"error_class": type(exc).__name__})

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
