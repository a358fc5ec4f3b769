"""Standing suite: schemathesis against the gateway's GraphQL schema (the exported
``schema.graphql``), sent to the real gateway of the e2e stack with a real Cognito access token
of a shopper with a profile and a verified phone: no server error and no masked
``InternalFailure`` on any generated query or mutation. Bounded examples per field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from graphql import StringValueNode
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from scripts.devstack import Stack
from tests.journey import good_profile, phone
from tests.test_e2e_journey import verified

pytestmark = pytest.mark.e2e

SCHEMA = Path(__file__).resolve().parents[1] / "services" / "gateway" / "schema.graphql"
EXAMPLES = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def _aws_scalars() -> None:
    """AppSync's scalars as strings: well-formed dates and instants, and anything at all."""
    dates = st.dates().map(lambda d: d.isoformat())
    instants = st.datetimes().map(lambda d: d.isoformat() + "Z")
    for name, good in (("AWSDate", dates), ("AWSDateTime", instants)):
        schemathesis.graphql.scalar(name, st.one_of(good, st.text(max_size=30)).map(lambda v: StringValueNode(value=v)))


def test_no_generated_operation_is_a_server_error(stack: Stack, new_shopper: Any) -> None:
    shopper = new_shopper()
    verified(shopper, stack, good_profile(phoneNumber=phone()))
    _aws_scalars()
    schema = schemathesis.graphql.from_path(str(SCHEMA))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    failures: list[str] = []
    sent = [0]
    url = f"{stack.url('gateway')}/graphql"
    with httpx.Client(timeout=30) as client:
        for operation in operations:

            @given(case=operation.as_strategy())
            @EXAMPLES
            def run(case: Any) -> None:
                response = client.post(url, json={"query": case.body}, headers={"Authorization": shopper.token})
                sent[0] += 1
                masked = []
                if response.headers.get("content-type", "").startswith("application/json"):
                    errors = response.json().get("errors") or []
                    masked = [e for e in errors if e.get("errorType") == "InternalFailure"]
                if response.status_code >= 500 or masked:
                    failures.append(f"{case.body!r}: {response.status_code} {response.text[:300]}")

            run()
    assert failures == []
    assert sent[0] >= 5 * len(operations)  # the suite did send what it generated
