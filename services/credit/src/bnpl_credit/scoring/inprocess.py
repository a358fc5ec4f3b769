"""Scorer adapter that loads the model artifact into this process (``bnpl_model``, optional)."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Sequence
from typing import Any

from bnpl_common.aio import run_abandoning, run_blocking

from bnpl_credit.scoring.port import FeatureRow, ScorerError, ScoreResult, check_model_inputs, parse_prediction


class InProcessScorer:
    """Loads ``bnpl_model.scorer.Scorer.from_path(dir)`` once: at startup (:meth:`verify`) or on
    first use; scores in a worker thread. The outcome of the load is kept: a model that did not
    load is not read from disk again on every decision. With ``expected_features``, a model
    whose declared inputs (``feature_names``) differ from them is refused."""

    def __init__(self, artifact_dir: str, *, expected_features: Sequence[str] | None = None) -> None:
        self._artifact_dir = artifact_dir
        self._expected = tuple(expected_features) if expected_features is not None else None
        self._model: Any = None
        self._failure: ScorerError | None = None
        self._lock = asyncio.Lock()

    async def _load(self) -> Any:
        try:
            # an optional dependency (``pip install -e model``), so imported by name: its scorer is
            # checked at startup (feature names) rather than by the type checker
            model_scorer: Any = importlib.import_module("bnpl_model.scorer").Scorer
        except ImportError as exc:
            raise ScorerError("bnpl_model is not installed") from exc
        try:
            model = await run_blocking(model_scorer.from_path, self._artifact_dir)
        except Exception as exc:  # missing or unreadable artifact
            raise ScorerError(f"in-process model not loaded: {type(exc).__name__}") from exc
        declared = getattr(model, "feature_names", None)
        if self._expected is not None and declared is not None:
            check_model_inputs(declared, self._expected)  # FeatureMismatch
        return model

    async def _loaded(self) -> Any:
        if self._model is None and self._failure is None:
            async with self._lock:
                if self._model is None and self._failure is None:
                    try:
                        self._model = await self._load()
                    except ScorerError as exc:
                        self._failure = exc
        if self._failure is not None:
            raise self._failure.with_traceback(None)
        return self._model

    async def verify(self) -> None:
        """Load the model now and check its inputs (the app's startup, which fails with the
        :class:`ScorerError` raised here: a :class:`FeatureMismatch` or a model that did not load)."""
        await self._loaded()

    async def score(self, features: FeatureRow) -> ScoreResult:
        model = await self._loaded()
        try:
            # abandoned on cancel: the engine's timeout must answer at once (scoring writes nothing)
            predictions = await run_abandoning(model.score, [features])
        except Exception as exc:  # the model's own errors (invalid input) become a scorer failure
            raise ScorerError(f"in-process model failed: {type(exc).__name__}") from exc
        if not predictions:
            raise ScorerError("in-process model returned nothing")
        return parse_prediction(predictions[0])

    async def aclose(self) -> None:
        self._model = None
