"""The app wired from settings: the HTTP scorer on the shared client, adapters chosen by SCORER."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from bnpl_common.clock import FixedClock
from bnpl_common.testing import TokenMinter
from bnpl_credit.main import build_scorer, create_app
from bnpl_credit.scoring.http import HttpScorer
from bnpl_credit.scoring.inprocess import InProcessScorer
from bnpl_credit.scoring.port import ScorerError
from bnpl_credit.scoring.sagemaker import SageMakerScorer, runtime_client
from bnpl_credit.settings import Settings
from bnpl_credit.testing import Api, model_app
from fastapi.testclient import TestClient


def test_http_scorer_end_to_end(settings: Settings, minter: TokenMinter, clock: FixedClock) -> None:
    model = model_app()

    async def fetch() -> dict[str, Any]:
        return minter.jwks()

    app = create_app(settings, fetch_jwks=fetch, clock=clock, http_transport=httpx.ASGITransport(app=model))
    with TestClient(app) as client:
        body = Api(client, minter).approved()
    assert body["modelVersion"] == "scorecard-1" and body["riskGrade"] == "A"
    content_type, sent = model.state.seen[0]
    assert content_type == "application/json" and set(sent) == {"instances"}
    assert "Marital" not in sent["instances"][0]


def test_slow_model_server_refers(settings: Settings, minter: TokenMinter, clock: FixedClock) -> None:
    async def fetch() -> dict[str, Any]:
        return minter.jwks()

    app = create_app(settings, fetch_jwks=fetch, clock=clock, http_transport=httpx.ASGITransport(app=model_app("slow")))
    with TestClient(app) as client:
        r = Api(client, minter).apply()
    assert r.status_code == 201 and r.json()["status"] == "REFERRED"


def test_build_scorer_choices(tmp_path: Any) -> None:
    client = httpx.AsyncClient()
    assert isinstance(build_scorer(Settings(), client), HttpScorer)
    assert isinstance(
        build_scorer(Settings(scorer="inprocess", model_artifact_dir=str(tmp_path)), client), InProcessScorer
    )
    sm = Settings(scorer="sagemaker", sagemaker_endpoint_name="bnpl-scorecard")
    assert isinstance(build_scorer(sm, client), SageMakerScorer)
    with pytest.raises(ValueError):
        build_scorer(Settings(scorer="sagemaker"), client)


def test_the_sagemaker_client_is_made_once_with_the_scorer_timeout() -> None:
    client = runtime_client(region="eu-west-1", timeout_seconds=0.8)
    assert (client.meta.region_name, client.meta.config.read_timeout, client.meta.config.connect_timeout) == (
        "eu-west-1",
        0.8,
        0.8,
    )


def test_a_model_that_does_not_load_stops_the_startup(
    settings: Settings, minter: TokenMinter, clock: FixedClock, tmp_path: Any
) -> None:
    """Not a service that refers every decision while reading the disk again each time."""
    settings = settings.model_copy(update={"scorer": "inprocess", "model_artifact_dir": str(tmp_path / "none")})

    async def fetch() -> dict[str, Any]:
        return minter.jwks()

    with (
        pytest.raises(ScorerError, match=r"not (loaded|installed)"),
        TestClient(create_app(settings, fetch_jwks=fetch, clock=clock)),
    ):
        pass


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCORER", "inprocess")
    monkeypatch.setenv("SCORER_TIMEOUT_SECONDS", "0.5")
    monkeypatch.setenv("CREDIT_PORT", "9002")
    s = Settings()
    assert s.scorer == "inprocess" and s.scorer_timeout_seconds == 0.5 and s.credit_port == 9002
    assert s.credit_db_path == ".data/credit.sqlite3" and s.model_url == "http://127.0.0.1:8080"
