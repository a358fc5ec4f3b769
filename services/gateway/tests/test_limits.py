"""What one request may cost: body size, tokens, depth and aliases are refused before any
resolver runs; introspection and the HTTPS-only headers depend on the mode."""

from collections.abc import Callable
from typing import Any

import pytest
from bnpl_common.app import MAX_BODY_BYTES
from bnpl_gateway.schema import MAX_DEPTH, MAX_TOKENS
from fastapi.testclient import TestClient

HSTS = "max-age=31536000; includeSubDomains"


def errors_of(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] is None
    return body["errors"]


def post(gateway: TestClient, token: str, query: str) -> Any:
    return gateway.post("/graphql", json={"query": query}, headers={"Authorization": token})


def test_the_100000_field_document_is_refused_by_size(gateway: TestClient, token: str, user_service) -> None:
    """The review's request: ``{ me { id id ... x100000 } }``, 300 KB, held the event loop for 11 s."""
    query = "{ me { " + "id " * 100_000 + "} }"
    assert len(query) > MAX_BODY_BYTES
    response = post(gateway, token, query)
    assert response.status_code == 413
    assert response.text == "Content Too Large"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert user_service.calls == []


def test_a_body_over_the_limit_without_a_length_is_refused_too(gateway: TestClient, token: str, user_service) -> None:
    """Chunked: no Content-Length to check up front, the limit counts the bytes as they come."""

    def chunks() -> Any:
        yield b'{"query": "{ me { '
        for _ in range(MAX_BODY_BYTES // 1000 + 1):
            yield b"id " * 333 + b" "
        yield b'} }"}'

    response = gateway.post(
        "/graphql", content=chunks(), headers={"Authorization": token, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert user_service.calls == []


def test_a_document_that_fits_the_body_stops_at_the_token_limit(
    gateway: TestClient, token: str, user_service, credit_service
) -> None:
    """As many fields as 64 KiB holds: the parser gives up after MAX_TOKENS tokens, nothing else runs."""
    query = "{ me { " + "id " * ((MAX_BODY_BYTES - 100) // 3) + "} }"
    (error,) = errors_of(post(gateway, token, query))
    assert error["errorType"] == "ValidationError"
    assert error["message"] == f"Document contains more than {MAX_TOKENS} tokens. Parsing aborted."
    assert error["path"] is None
    assert user_service.calls == [] and credit_service.calls == []


def quote_with(plan_types: int) -> str:
    """A valid document of ``26 + plan_types`` tokens (commas are not tokens)."""
    listed = " ".join(["PAY_IN_4"] * plan_types)
    return f'{{ quote(input: {{amount: {{amount: 40000, currency: "EUR"}}, planTypes: [{listed}]}}) {{ apr }} }}'


def test_the_token_limit_is_exact(gateway: TestClient, token: str, credit_service) -> None:
    credit_service.routes[("POST", "/v1/quotes")] = (200, {"offers": []})
    at_limit = post(gateway, token, quote_with(MAX_TOKENS - 26))
    assert at_limit.json() == {"data": {"quote": []}}
    assert len(credit_service.calls) == 1
    (error,) = errors_of(post(gateway, token, quote_with(MAX_TOKENS - 25)))
    assert error["message"] == f"Document contains more than {MAX_TOKENS} tokens. Parsing aborted."
    assert len(credit_service.calls) == 1


def test_a_syntax_error_is_still_a_malformed_query(gql) -> None:
    (error,) = gql("{ me { id ")["errors"]
    assert error["errorType"] == "MalformedQuery"


def test_depth_is_limited(gateway: TestClient, token: str, user_service) -> None:
    """The schema has no cycles today; the limit holds if one is added. Checked on the document alone."""
    nested = "x { " * MAX_DEPTH + "y" + " }" * MAX_DEPTH
    errors = errors_of(post(gateway, token, "query Deep { me { " + nested + " } }"))
    depth = [e for e in errors if "maximum operation depth" in e["message"]]
    assert depth, errors
    assert depth[0]["errorType"] == "ValidationError"
    assert depth[0]["message"] == f"'Deep' exceeds maximum operation depth of {MAX_DEPTH}"
    assert user_service.calls == []


INTROSPECTION = "{ __schema { queryType { name } } }"


def test_introspection_answers_outside_aws(gql) -> None:
    assert gql(INTROSPECTION) == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


def test_introspection_is_off_in_aws(build_gateway: Callable[..., TestClient], token: str, user_service, api) -> None:
    gateway = build_gateway(bnpl_env="aws", service_signing="aws")
    errors = errors_of(post(gateway, token, INTROSPECTION))
    assert {e["errorType"] for e in errors} == {"ValidationError"}
    assert "introspection has been disabled" in errors[0]["message"]
    assert "__schema" in errors[0]["message"]
    errors = errors_of(post(gateway, token, '{ __type(name: "Customer") { name } }'))
    assert "introspection has been disabled" in errors[0]["message"]
    # __typename is not introspection of the schema: clients (and AppSync) rely on it.
    user_service.routes[("GET", "/v1/profile")] = (200, api.customer())
    response = post(gateway, token, "{ me { __typename id } }")
    assert response.json() == {"data": {"me": {"__typename": "Customer", "id": api.sub}}}


@pytest.mark.parametrize("path", ["/livez", "/graphql", "/config.json", "/checkout/", "/no-such-page"])
def test_every_response_says_nosniff_and_no_hsts_over_local_http(gateway: TestClient, path: str) -> None:
    response = gateway.post(path, json={}) if path == "/graphql" else gateway.get(path)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "strict-transport-security" not in response.headers


@pytest.mark.parametrize("path", ["/livez", "/graphql", "/config.json", "/checkout/"])
def test_in_aws_every_response_carries_hsts(build_gateway: Callable[..., TestClient], path: str) -> None:
    gateway = build_gateway(bnpl_env="aws", service_signing="aws")
    response = gateway.post(path, json={}) if path == "/graphql" else gateway.get(path)
    assert response.headers["strict-transport-security"] == HSTS
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_size_refusal_carries_hsts_in_aws(build_gateway: Callable[..., TestClient], token: str) -> None:
    gateway = build_gateway(bnpl_env="aws", service_signing="aws")
    response = gateway.post("/graphql", content=b"x" * (MAX_BODY_BYTES + 1), headers={"Authorization": token})
    assert response.status_code == 413
    assert response.headers["strict-transport-security"] == HSTS
