"""Scorer adapter for a SageMaker endpoint (``sagemaker-runtime`` ``invoke_endpoint``)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from bnpl_common.aio import run_abandoning

from bnpl_credit.scoring.port import FeatureRow, MalformedScore, ScorerError, ScoreResult, parse_invocation_body


def runtime_client(*, region: str, timeout_seconds: float) -> Any:
    """The ``sagemaker-runtime`` client: one attempt within the scorer's timeout. Build it at startup."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=timeout_seconds, read_timeout=timeout_seconds, retries={"max_attempts": 1, "mode": "standard"}
    )
    return boto3.client("sagemaker-runtime", region_name=region, config=config)


class SageMakerScorer:
    """Calls ``invoke_endpoint`` in a worker thread with a client made once (:func:`runtime_client`)."""

    def __init__(self, *, endpoint_name: str, timeout_seconds: float, client: Any) -> None:
        self._endpoint = endpoint_name
        self._timeout = timeout_seconds
        self._client = client

    def _invoke(self, body: str) -> bytes:
        response = self._client.invoke_endpoint(
            EndpointName=self._endpoint, ContentType="application/json", Accept="application/json", Body=body
        )
        raw: bytes = response["Body"].read()
        return raw

    async def score(self, features: FeatureRow) -> ScoreResult:
        try:
            async with asyncio.timeout(self._timeout):
                # abandoned on cancel: a call that outlives the timeout writes nothing
                raw = await run_abandoning(self._invoke, json.dumps({"instances": [features]}))
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
        self._client.close()
