"""Scorer adapter for a SageMaker endpoint (``sagemaker-runtime`` ``invoke_endpoint``)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from bnpl_credit.scoring.port import MalformedScore, ScorerError, ScoreResult, parse_invocation_body


class SageMakerScorer:
    """Calls ``invoke_endpoint`` in a worker thread; the boto3 client is created once, lazily."""

    def __init__(self, *, endpoint_name: str, region: str, timeout_seconds: float, client: Any | None = None) -> None:
        self._endpoint = endpoint_name
        self._region = region
        self._timeout = timeout_seconds
        self._client = client

    def _runtime(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.client(
                "sagemaker-runtime",
                region_name=self._region,
                config=Config(
                    connect_timeout=self._timeout,
                    read_timeout=self._timeout,
                    retries={"max_attempts": 1, "mode": "standard"},
                ),
            )
        return self._client

    def _invoke(self, body: str) -> bytes:
        response = self._runtime().invoke_endpoint(
            EndpointName=self._endpoint, ContentType="application/json", Accept="application/json", Body=body
        )
        return response["Body"].read()

    async def score(self, features: dict[str, Any]) -> ScoreResult:
        try:
            async with asyncio.timeout(self._timeout):
                raw = await asyncio.to_thread(self._invoke, json.dumps({"instances": [features]}))
        except TimeoutError as exc:
            raise ScorerError("endpoint call timed out") from exc
        except Exception as exc:  # botocore ClientError, connection errors...
            raise ScorerError(f"endpoint call failed: {type(exc).__name__}") from exc
        try:
            body = json.loads(raw)
        except ValueError as exc:
            raise MalformedScore("endpoint answered invalid JSON") from exc
        return parse_invocation_body(body)

    async def aclose(self) -> None:
        self._client = None
