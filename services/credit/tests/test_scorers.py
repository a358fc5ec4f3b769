"""Scorer adapters: HTTP (SageMaker contract), SageMaker runtime (botocore Stubber), in-process."""

from __future__ import annotations

import asyncio
import io
import json
import time
from typing import Any

import botocore.session
import httpx
import pytest
from bnpl_common.internal_http import HttpxClient
from bnpl_credit.decision.features import FEATURE_NAMES
from bnpl_credit.scoring.http import HttpScorer
from bnpl_credit.scoring.inprocess import InProcessScorer
from bnpl_credit.scoring.port import MalformedScore, ScorerError
from bnpl_credit.scoring.sagemaker import SageMakerScorer
from bnpl_credit.testing import PREDICTION, model_app
from botocore.response import StreamingBody
from botocore.stub import Stubber
from fastapi import FastAPI

FEATURES = {"Seniority": 5, "Home": "owner", "Time": 2, "Age": 40, "Records": "no", "Job": "fixed"}


def scorer_for(app: FastAPI, timeout: float = 0.3) -> tuple[HttpScorer, httpx.AsyncClient]:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
    return HttpScorer(HttpxClient(client), base_url="http://model:8080", timeout_seconds=timeout), client


async def _score(app: FastAPI, timeout: float = 0.3) -> Any:
    scorer, client = scorer_for(app, timeout)
    async with client:
        return await scorer.score(FEATURES)


def test_http_scorer_sends_instances_and_parses_prediction() -> None:
    app = model_app()
    result = asyncio.run(_score(app))
    assert result.pd == 0.07 and result.grade == "A" and result.score == 603
    assert result.model_version == "scorecard-1" and result.reasons[0].code == "R_INCOME"
    content_type, body = app.state.seen[0]
    assert content_type == "application/json" and body == {"instances": [FEATURES]}


@pytest.mark.parametrize("behaviour,error", [("error", ScorerError), ("malformed", MalformedScore)])
def test_http_scorer_failures_raise_scorer_error(behaviour: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        asyncio.run(_score(model_app(behaviour)))


def test_http_scorer_slow_model_times_out_quickly() -> None:
    started = time.perf_counter()
    with pytest.raises(ScorerError):
        asyncio.run(_score(model_app("slow"), timeout=0.2))
    assert time.perf_counter() - started < 1.5


def test_http_scorer_connection_refused() -> None:
    async def run() -> None:
        def refuse(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("refused", request=request)

        async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
            await HttpScorer(HttpxClient(client), base_url="http://model", timeout_seconds=0.3).score(FEATURES)

    with pytest.raises(ScorerError):
        asyncio.run(run())


def _sagemaker_client() -> Any:
    session = botocore.session.get_session()
    return session.create_client(
        "sagemaker-runtime", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )


def _body(payload: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(payload), len(payload))


def test_sagemaker_scorer_invokes_endpoint() -> None:
    client = _sagemaker_client()
    payload = json.dumps({"predictions": [PREDICTION]}).encode()
    with Stubber(client) as stub:
        stub.add_response(
            "invoke_endpoint",
            {"Body": _body(payload), "ContentType": "application/json"},
            {
                "EndpointName": "bnpl-scorecard",
                "ContentType": "application/json",
                "Accept": "application/json",
                "Body": json.dumps({"instances": [FEATURES]}),
            },
        )
        scorer = SageMakerScorer(endpoint_name="bnpl-scorecard", timeout_seconds=1.0, client=client)
        result = asyncio.run(scorer.score(FEATURES))
        stub.assert_no_pending_responses()
    assert result.grade == "A" and result.model_version == "scorecard-1"


def test_sagemaker_scorer_client_error_is_scorer_error() -> None:
    client = _sagemaker_client()
    with Stubber(client) as stub:
        stub.add_client_error("invoke_endpoint", service_error_code="ModelError", http_status_code=424)
        scorer = SageMakerScorer(endpoint_name="x", timeout_seconds=1.0, client=client)
        with pytest.raises(ScorerError):
            asyncio.run(scorer.score(FEATURES))


def test_sagemaker_scorer_malformed_body() -> None:
    client = _sagemaker_client()
    with Stubber(client) as stub:
        stub.add_response("invoke_endpoint", {"Body": _body(b"not json")})
        scorer = SageMakerScorer(endpoint_name="x", timeout_seconds=1.0, client=client)
        with pytest.raises(MalformedScore):
            asyncio.run(scorer.score(FEATURES))


def test_inprocess_scorer_loads_lazily_and_scores(monkeypatch: pytest.MonkeyPatch) -> None:
    bnpl_model_scorer = pytest.importorskip("bnpl_model.scorer")
    loaded: list[str] = []

    class Fake:
        def score(self, instances: list[dict[str, Any]]) -> list[dict[str, Any]]:
            assert instances == [FEATURES]
            return [PREDICTION]

    def from_path(path: str) -> Fake:
        loaded.append(path)
        return Fake()

    monkeypatch.setattr(bnpl_model_scorer.Scorer, "from_path", staticmethod(from_path))
    scorer = InProcessScorer("/artifacts/x")
    assert loaded == []

    async def run() -> Any:
        await scorer.score(FEATURES)
        return await scorer.score(FEATURES)

    assert asyncio.run(run()).grade == "A"
    assert loaded == ["/artifacts/x"]


def test_inprocess_scorer_refuses_a_model_whose_inputs_differ_from_the_mapping(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Review finding L8: a model would score instances with missing inputs silently."""
    from bnpl_credit.decision.features import FEATURE_NAMES
    from bnpl_credit.scoring.port import FeatureMismatch

    bnpl_model_scorer = pytest.importorskip("bnpl_model.scorer")

    class Fake:
        def __init__(self, names: list[str]) -> None:
            self.feature_names = names

        def score(self, instances: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [PREDICTION]

    declared: list[str] = [*FEATURE_NAMES, "MaritalStatus"]
    monkeypatch.setattr(bnpl_model_scorer.Scorer, "from_path", staticmethod(lambda path: Fake(declared)))
    scorer = InProcessScorer("/artifacts/x", expected_features=FEATURE_NAMES)
    with pytest.raises(FeatureMismatch, match="MaritalStatus"):
        asyncio.run(scorer.verify())
    with pytest.raises(FeatureMismatch):  # never scores: the engine makes it REFERRED
        asyncio.run(scorer.score(FEATURES))
    declared = [n for n in FEATURE_NAMES if n != "Debt"]
    with pytest.raises(FeatureMismatch, match="Debt"):
        asyncio.run(InProcessScorer("/x", expected_features=FEATURE_NAMES).verify())
    declared = list(reversed(FEATURE_NAMES))
    ok = InProcessScorer("/x", expected_features=FEATURE_NAMES)
    asyncio.run(ok.verify())
    assert asyncio.run(ok.score(FEATURES)).grade == "A"


def test_inprocess_scorer_loads_once_even_when_the_load_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    bnpl_model_scorer = pytest.importorskip("bnpl_model.scorer")
    attempts: list[str] = []

    def from_path(path: str) -> Any:
        attempts.append(path)
        raise FileNotFoundError(path)

    monkeypatch.setattr(bnpl_model_scorer.Scorer, "from_path", staticmethod(from_path))
    scorer = InProcessScorer("/no/such/artifact", expected_features=FEATURE_NAMES)
    with pytest.raises(ScorerError, match="FileNotFoundError"):
        asyncio.run(scorer.verify())  # the app's startup fails on this
    for _ in range(2):  # had startup gone on, a decision would fail (REFERRED), not read the disk again
        with pytest.raises(ScorerError, match="not loaded"):
            asyncio.run(scorer.score(FEATURES))
    assert attempts == ["/no/such/artifact"]


def test_the_packaged_model_takes_exactly_the_mapping() -> None:
    from pathlib import Path

    from bnpl_credit.decision.features import FEATURE_NAMES

    artifact = Path(__file__).resolve().parents[3] / "model" / "artifacts" / "credit-scorecard"
    if not (artifact / "model.json").exists():
        pytest.skip("model not trained")
    pytest.importorskip("bnpl_model.scorer")
    asyncio.run(InProcessScorer(str(artifact), expected_features=FEATURE_NAMES).verify())
