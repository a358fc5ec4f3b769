"""AppSync's error shape: typed errors with the GraphQL field, everything else masked."""

import json
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from bnpl_common.logging import JsonFormatter
from bnpl_common.testing import free_port
from fastapi.testclient import TestClient

ERROR_KEYS = {"message", "errorType", "errorInfo", "path", "locations", "data"}
APPLY = """
mutation Apply($input: CreditApplicationInput!) {
  applyForCredit(input: $input, idempotencyKey: "checkout-0001") { id }
}
"""
ORDER = {"checkoutToken": "ct_4kQ9xY2mZr8wP1nB7vL3sD6fH0jT5gA", "planType": "PAY_IN_4"}


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    (error,) = body["errors"]
    assert set(error) == ERROR_KEYS, error
    assert error["data"] is None
    assert "Traceback" not in json.dumps(body)
    return error


def test_service_validation_error_names_the_graphql_field(gql, user_service, credit_service, api) -> None:
    user_service.routes[("GET", "/v1/profile")] = (200, api.customer())
    credit_service.routes[("POST", "/v1/applications")] = (
        422,
        api.error("ValidationError", "no such plan for this checkout", field="planType", allowed="PAY_IN_4"),
    )
    error = only_error(gql(APPLY, {"input": ORDER}))
    assert error["errorType"] == "ValidationError"
    assert error["message"] == "no such plan for this checkout"
    assert error["errorInfo"] == {"field": "input.planType", "allowed": "PAY_IN_4"}
    assert error["path"] == ["applyForCredit"]
    assert error["locations"][0]["line"] == 3


def test_business_error_types_pass_through(gql, user_service, credit_service, api) -> None:
    user_service.routes[("GET", "/v1/profile")] = (200, api.customer(phoneVerified=False))
    credit_service.routes[("POST", "/v1/applications")] = (
        422,
        api.error("PhoneNotVerified", "verify your phone first", field="profile.phoneVerified"),
    )
    error = only_error(gql(APPLY, {"input": ORDER}))
    assert error["errorType"] == "PhoneNotVerified"
    assert error["errorInfo"] == {"field": "profile.phoneVerified"}


def test_profile_field_errors_point_into_input(gql, user_service) -> None:
    user_service.routes[("PATCH", "/v1/profile")] = (
        422,
        {
            "error": {
                "type": "ValidationError",
                "message": "dateOfBirth: must be 18 or older",
                "field": "dateOfBirth",
                "info": {"errors": [{"field": "dateOfBirth", "message": "must be 18 or older"}]},
            }
        },
    )
    error = only_error(gql('mutation { updateProfile(input: {dateOfBirth: "2020-01-01"}) { id } }'))
    assert error["errorInfo"] == {
        "field": "input.dateOfBirth",
        "errors": [{"field": "input.dateOfBirth", "message": "must be 18 or older"}],
    }


def test_idempotency_conflict_keeps_the_argument_name(gql, user_service, credit_service, api) -> None:
    user_service.routes[("GET", "/v1/profile")] = (200, api.customer())
    credit_service.routes[("POST", "/v1/applications")] = (
        409,
        api.error("IdempotencyConflict", "key reused with another body", field="idempotencyKey"),
    )
    error = only_error(gql(APPLY, {"input": ORDER}))
    assert (error["errorType"], error["errorInfo"]) == ("IdempotencyConflict", {"field": "idempotencyKey"})


def test_wrong_code_keeps_attempts_remaining(gql, user_service, api) -> None:
    user_service.routes[("POST", "/v1/profile/phone-verification/confirm")] = (
        422,
        api.error("CodeMismatch", "wrong code", field="code", attemptsRemaining=3),
    )
    error = only_error(gql('mutation { confirmPhoneVerification(code: "000000") { id } }'))
    assert error["errorType"] == "CodeMismatch"
    assert error["errorInfo"] == {"field": "code", "attemptsRemaining": 3}


def test_missing_route_surfaces_as_an_error(gql) -> None:
    error = only_error(gql("{ plans { id } }"))
    assert error["errorType"] == "NotFound"


def test_unreachable_service_is_dependency_failed(build_gateway, token: str) -> None:
    gateway = build_gateway(transport=httpx.AsyncHTTPTransport(), user_service_url=f"http://127.0.0.1:{free_port()}")
    r = gateway.post("/graphql", json={"query": "{ me { id } }"}, headers={"Authorization": token})
    assert r.status_code == 200
    error = only_error(r.json())
    assert error["errorType"] == "DependencyFailed"
    assert "127.0.0.1" not in error["message"] and "Connect" not in error["message"]
    assert r.json()["data"] == {"me": None}


def test_timeout_and_server_errors_are_dependency_failed(build_gateway, token: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "user.test":
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(500, json={"error": {"type": "InternalFailure", "message": "db at /var/x exploded"}})

    gateway = build_gateway(transport=httpx.MockTransport(handler))
    query = "{ me { id } plans { id } }"
    body = gateway.post("/graphql", json={"query": query}, headers={"Authorization": token}).json()
    assert {e["errorType"] for e in body["errors"]} == {"DependencyFailed"}
    assert "exploded" not in json.dumps(body)


class JsonLines(logging.Handler):
    """Formats at emit time, while the request id is still set."""

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.entries.append(json.loads(JsonFormatter("bnpl-gateway").format(record)))


def test_unexpected_failure_is_masked_and_logged(gql, user_service, api, token: str) -> None:
    handler = JsonLines()
    logging.getLogger("bnpl.gateway").addHandler(handler)
    broken = api.customer()
    del broken["address"]["city"]  # the service broke its contract: our bug to find, not the caller's
    user_service.routes[("GET", "/v1/profile")] = (200, broken)
    body = gql("{ me { id address { city } } }", **{"X-Request-Id": "req-broken-1"})
    error = only_error(body)
    assert (error["errorType"], error["message"]) == ("InternalFailure", "internal error")
    assert error["errorInfo"] is None
    logging.getLogger("bnpl.gateway").removeHandler(handler)
    failures = [entry for entry in handler.entries if entry["message"] == "resolver failed"]
    assert failures and failures[0]["request_id"] == "req-broken-1"
    assert "Address.city" in failures[0]["exception"] and failures[0]["graphql_path"] == "me.address.city"
    assert token not in json.dumps(handler.entries)


@pytest.mark.parametrize(
    ("query", "variables", "error_type"),
    [
        ("{ me { id ", None, "MalformedQuery"),
        ("{ me { nope } }", None, "ValidationError"),
        ("{ application { id } }", None, "ValidationError"),
        ('mutation { updateProfile(input: {dateOfBirth: "10/12/1990"}) { id } }', None, "ValidationError"),
        (
            "mutation M($i: ProfileUpdateInput!) { updateProfile(input: $i) { id } }",
            {"i": {"employmentYears": "x"}},
            "ValidationError",
        ),
        (
            "mutation M($i: ProfileUpdateInput!) { updateProfile(input: $i) { id } }",
            {"i": {"dateOfBirth": "1990-13-01"}},
            "ValidationError",
        ),
    ],
)
def test_graphql_errors_before_execution(
    gql: Callable[..., dict], user_service, query: str, variables: dict | None, error_type: str
) -> None:
    body = gql(query, variables)
    error = only_error(body)
    assert error["errorType"] == error_type
    assert error["message"]
    assert error["path"] is None
    assert user_service.calls == []


def test_non_json_body_is_a_json_400(gateway: TestClient, token: str) -> None:
    r = gateway.post(
        "/graphql", content=b"{not json", headers={"Authorization": token, "Content-Type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json()["errors"][0]["errorType"] == "MalformedHttpRequestException"


def test_alias_fan_out_is_limited(gql, user_service) -> None:
    """Each alias of ``me`` would be one more upstream call: AppSync-like limits stop the fan-out."""
    fan_out = "{ " + " ".join(f"m{i}: me {{ id }}" for i in range(40)) + " }"
    error = only_error(gql(fan_out))
    assert error["errorType"] == "ValidationError"
    assert user_service.calls == []
