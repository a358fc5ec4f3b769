"""Scorer adapter for the model server's SageMaker-compatible HTTP contract."""

from __future__ import annotations

import asyncio
import json

from bnpl_common.internal_http import CallFailed, InternalClient

from bnpl_credit.scoring.port import FeatureRow, MalformedScore, ScorerError, ScoreResult, parse_invocation_body


class HttpScorer:
    """``POST {base_url}/invocations`` on the process's internal client, with a hard overall timeout."""

    def __init__(self, client: InternalClient, *, base_url: str, timeout_seconds: float) -> None:
        self._client = client
        self._url = base_url.rstrip("/") + "/invocations"
        self._timeout = timeout_seconds

    async def score(self, features: FeatureRow) -> ScoreResult:
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._client.request(
                    "POST",
                    self._url,
                    body=json.dumps({"instances": [features]}).encode(),
                    headers={"Content-Type": "application/json", "Accept": "application/json"},
                )
        except TimeoutError as exc:
            raise ScorerError("model call timed out") from exc
        except CallFailed as exc:
            raise ScorerError(f"model call failed: {exc}") from exc
        if response.status != 200:
            raise ScorerError(f"model answered {response.status}")
        try:
            body = response.json()
        except ValueError as exc:
            raise MalformedScore("model answered invalid JSON") from exc
        return parse_invocation_body(body)

    async def aclose(self) -> None:
        """The client belongs to the app; nothing to close here."""
