"""Shadow scoring: a challenger scores every decision beside the champion; stored, never used."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import pytest
from bnpl_common.clock import FixedClock
from bnpl_common.testing import TokenMinter
from bnpl_credit.decision.engine import DecisionEngine
from bnpl_credit.events.relay import LogPublisher
from bnpl_credit.main import create_app
from bnpl_credit.scoring.port import ScorerError
from bnpl_credit.settings import Settings
from bnpl_credit.testing import Api, FakeScorer, score_result
from fastapi.testclient import TestClient

from .test_engine import MARKETS, POLICY, ctx

CHAMPION = score_result(pd=0.05, grade="A")
CHALLENGER = score_result(pd=0.4, grade="E")


def decide(shadow: FakeScorer, timeout: float = 0.2) -> Any:
    engine = DecisionEngine(
        policy=POLICY, markets=MARKETS, scorer=FakeScorer(result=CHAMPION), timeout_seconds=timeout, shadow=shadow
    )
    return asyncio.run(engine.decide(ctx(), {"Age": 40}))


def test_the_challenger_is_recorded_and_never_decides() -> None:
    shadow = FakeScorer(result=CHALLENGER)  # it would decline
    decision = decide(shadow)
    assert decision.status == "APPROVED" and decision.score == CHAMPION
    assert decision.shadow == CHALLENGER and shadow.calls == [{"Age": 40}]


@pytest.mark.parametrize("shadow", [FakeScorer(error=ScorerError("down")), FakeScorer(result=CHALLENGER, delay=5)])
def test_a_failing_or_slow_challenger_changes_nothing(shadow: FakeScorer) -> None:
    decision = decide(shadow, timeout=0.05)  # a challenger that hangs is cut at the champion's timeout
    assert decision.status == "APPROVED" and decision.score == CHAMPION and decision.shadow is None


@pytest.fixture
def shadow_client(
    settings: Settings, minter: TokenMinter, clock: FixedClock
) -> Iterator[tuple[TestClient, LogPublisher]]:
    settings = settings.model_copy(update={"relay_interval_seconds": 0.05})

    async def fetch() -> dict[str, Any]:
        return minter.jwks()

    publisher = LogPublisher()
    app = create_app(
        settings,
        fetch_jwks=fetch,
        clock=clock,
        scorer=FakeScorer(result=CHAMPION),
        shadow_scorer=FakeScorer(result=CHALLENGER),
        publisher=publisher,
    )
    with TestClient(app) as client:
        yield client, publisher


def test_the_shadow_score_is_stored_with_the_decision_and_sent_to_the_lake(
    shadow_client: tuple[TestClient, LogPublisher], minter: TokenMinter, settings: Settings
) -> None:
    client, publisher = shadow_client
    app = Api(client, minter, "sub-shadow").apply().json()
    assert app["status"] == "APPROVED" and app["pd"] == CHAMPION.pd  # the shopper sees the champion only
    conn = sqlite3.connect(settings.credit_db_path)
    record = json.loads(conn.execute("SELECT record FROM decisions").fetchone()[0])
    conn.close()
    assert record["shadow"]["pd"] == CHALLENGER.pd and record["score"]["pd"] == CHAMPION.pd
    for _ in range(200):  # the relay publishes in the background
        if publisher.published:
            break
        time.sleep(0.02)
    event = next(e for e in publisher.published if e["type"] == "decision.made")
    assert event["data"]["shadow"] == {
        "pd": CHALLENGER.pd,
        "score": CHALLENGER.score,
        "grade": "E",
        "modelVersion": CHALLENGER.model_version,
    }
