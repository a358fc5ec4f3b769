"""Input edges found by an attack on a running stack (issue 17, item 8): the caller's bad input is
a clear error naming what is wrong, never an internal failure or an outage, and nothing is sent on."""

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

PROFILE = {
    "givenName": "Ada",
    "familyName": "Lovelace",
    "dateOfBirth": "1990-12-10",
    "phoneNumber": "+447700900123",
    "address": {"line1": "1 High Street", "city": "London", "postalCode": "N1 9GU", "country": "GB"},
    "monthlyIncome": {"amount": 350000, "currency": "GBP"},
    "monthlyExpenses": {"amount": 150000, "currency": "GBP"},
    "housing": "RENT",
    "employment": "FIXED",
    "employmentYears": 4,
    "assets": {"amount": 0, "currency": "GBP"},
    "debt": {"amount": 0, "currency": "GBP"},
}
CREATE = "mutation C($input: ProfileInput!) { createProfile(input: $input) { id dateOfBirth } }"
APPLY = """mutation A($key: String!) {
  applyForCredit(
    input: {checkoutToken: "ct_4kQ9xY2mZr8wP1nB7vL3sD6fH0jT5gA", planType: PAY_IN_4}
    idempotencyKey: $key
  ) { id }
}"""


def post_raw(gateway: TestClient, token: str, body: bytes) -> Any:
    return gateway.post("/graphql", content=body, headers={"Authorization": token, "Content-Type": "application/json"})


@pytest.mark.parametrize(
    "body",
    [b'"a string"', b"1", b"null", b"true", b'{"query": "{ me { id } }", "x": "\xff"}', b"\xff\xfe{}"],
)
def test_a_body_that_is_not_a_utf8_json_object_is_a_400(gateway: TestClient, token: str, body: bytes) -> None:
    response = post_raw(gateway, token, body)
    assert response.status_code == 400, response.text
    (error,) = response.json()["errors"]
    assert error["errorType"] == "MalformedHttpRequestException"


def test_the_next_request_is_answered_after_a_malformed_one(gateway: TestClient, token: str) -> None:
    assert post_raw(gateway, token, b'"x"').status_code == 400
    assert post_raw(gateway, token, b'{"query": "{ __typename }"}').json() == {"data": {"__typename": "Query"}}


def gql_ascii(gateway: TestClient, token: str, query: str, variables: dict[str, Any]) -> Any:
    """As a client sends it: JSON escapes (``\\ud800``), which decode to an unpaired surrogate."""
    body = json.dumps({"query": query, "variables": variables}).encode()
    response = post_raw(gateway, token, body)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_lone_surrogate_is_a_validation_error_naming_the_field(gateway, token, user_service) -> None:
    body = gql_ascii(gateway, token, CREATE, {"input": {**PROFILE, "familyName": "Love\ud800lace"}})
    (error,) = body["errors"]
    assert error["errorType"] == "ValidationError"
    assert error["errorInfo"] == {"field": "input.familyName"}
    assert user_service.calls == []


def test_a_lone_surrogate_in_a_literal_is_refused_too(gql, user_service) -> None:
    body = gql('mutation { confirmPhoneVerification(code: "\\ud800") { id } }')
    (error,) = body["errors"]
    assert error["errorType"] == "MalformedQuery"  # graphql-core's parser refuses the escape
    assert user_service.calls == []


def test_a_lone_surrogate_in_a_query_argument_is_refused(gateway, token, credit_service) -> None:
    body = gql_ascii(
        gateway, token, "query Q($t: String) { applications(nextToken: $t) { nextToken } }", {"t": "\udc00"}
    )
    (error,) = body["errors"]
    assert (error["errorType"], error["errorInfo"]) == ("ValidationError", {"field": "nextToken"})
    assert credit_service.calls == []


@pytest.mark.parametrize("key", ["clé-12345678", "key\n12345678", "k\x00123456789", "\ud800abcdefgh", "short"])
def test_a_bad_idempotency_key_is_a_validation_error_not_an_outage(
    gateway, token, user_service, credit_service, api, key
) -> None:
    user_service.routes[("GET", "/v1/profile")] = (200, api.customer())
    credit_service.routes[("POST", "/v1/applications")] = (201, api.application())
    (error,) = gql_ascii(gateway, token, APPLY, {"key": key})["errors"]
    assert error["errorType"] == "ValidationError"
    assert error["errorInfo"] == {"field": "idempotencyKey"}
    assert credit_service.calls == []


@pytest.mark.parametrize(
    "text", ["19850101", "1985-W01-1", "1985-001", "1985-01-01T00:00:00Z", "1985-1-1", "١٩٨٥-٠١-٠١"]
)
def test_awsdate_refuses_what_appsync_refuses(gql, user_service, text: str) -> None:
    (error,) = gql(CREATE, {"input": {**PROFILE, "dateOfBirth": text}})["errors"]
    assert error["errorType"] == "ValidationError"
    assert "AWSDate" in error["message"]
    assert user_service.calls == []


@pytest.mark.parametrize("text", ["1985-01-01", "1985-01-01Z", "1985-01-01-07:00", "1985-01-01+05:30:00"])
def test_awsdate_takes_a_date_with_an_optional_offset(gql, user_service, api, text: str) -> None:
    user_service.routes[("PUT", "/v1/profile")] = (201, api.customer(dateOfBirth="1985-01-01"))
    body = gql(CREATE, {"input": {**PROFILE, "dateOfBirth": text}})
    assert "errors" not in body, body
    assert user_service.calls[-1].body["dateOfBirth"] == "1985-01-01"
