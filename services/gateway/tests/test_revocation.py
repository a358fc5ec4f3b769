"""Revoked users (hardening item 7): money-moving mutations ask Cognito whether the caller's
token is still honoured; a revoked token moves nothing, an unreachable Cognito moves nothing,
reads go on until the token expires, and a live answer is cached for a short window."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

APPLY = """mutation A($key: String!) {
  applyForCredit(input: {checkoutToken: "chk-token-0123456789abcdef", planType: PAY_IN_4}, idempotencyKey: $key) {
    id } }"""
CONFIRM = 'mutation { confirmPlan(applicationId: "app-1", idempotencyKey: "confirm-0001") { id } }'
PAY = """mutation { makePayment(planId: "plan-1", amount: {amount: 100, currency: "EUR"},
                                idempotencyKey: "pay-00000001") { id } }"""
CANCEL = 'mutation { cancelApplication(id: "app-1") { id } }'
MONEY_MOVING = [APPLY, CONFIRM, PAY, CANCEL]


@pytest.mark.parametrize("mutation", MONEY_MOVING)
def test_a_revoked_token_moves_no_money(
    mutation: str, gql: Callable[..., dict[str, Any]], cognito: Any, token: str, user_service: Any, credit_service: Any
) -> None:
    cognito.revoked.add(token)
    body = gql(mutation, {"key": "apply-0001"})
    assert body["errors"][0]["errorType"] == "UnauthorizedException", body
    assert credit_service.calls == []  # nothing done
    # nothing asked either, but the caller's own profile, read while Cognito is asked
    assert [(c.method, c.path) for c in user_service.calls] in ([], [("GET", "/v1/profile/snapshot")])


@pytest.mark.parametrize("mutation", MONEY_MOVING)
def test_an_unreachable_cognito_moves_no_money(
    mutation: str, gql: Callable[..., dict[str, Any]], cognito: Any, credit_service: Any
) -> None:
    cognito.down = True
    body = gql(mutation, {"key": "apply-0001"})
    assert body["errors"][0]["errorType"] == "DependencyFailed", body
    assert credit_service.calls == []


def test_reads_are_not_checked(gql: Callable[..., dict[str, Any]], cognito: Any, token: str, user_service: Any) -> None:
    """The README's stated window: a revoked token reads until it expires."""
    cognito.revoked.add(token)
    user_service.routes[("GET", "/v1/profile")] = (404, {"error": {"type": "ProfileNotFound", "message": "none"}})
    body = gql("query { me { id } }")
    assert body == {"data": {"me": None}} and cognito.asked == 0


def test_a_live_answer_is_cached_for_the_window(
    gql: Callable[..., dict[str, Any]], cognito: Any, token: str, credit_service: Any, api: Any
) -> None:
    credit_service.routes[("POST", "/v1/applications/app-1/cancel")] = (200, api.application("CANCELLED"))
    assert "errors" not in gql(CANCEL)
    assert "errors" not in gql(CANCEL)
    assert cognito.asked == 1
    cognito.revoked.add(token)  # revoked meanwhile: honoured at the latest when the cached answer expires
    assert "errors" not in gql(CANCEL)


def test_with_no_cache_every_call_asks(
    build_gateway: Callable[..., Any], cognito: Any, token: str, credit_service: Any, api: Any
) -> None:
    gateway = build_gateway(token_revocation_cache_seconds=0)
    credit_service.routes[("POST", "/v1/applications/app-1/cancel")] = (200, api.application("CANCELLED"))
    headers = {"Authorization": token}
    assert "errors" not in gateway.post("/graphql", json={"query": CANCEL}, headers=headers).json()
    cognito.revoked.add(token)
    body = gateway.post("/graphql", json={"query": CANCEL}, headers=headers).json()
    assert body["errors"][0]["errorType"] == "UnauthorizedException" and cognito.asked == 2


STAFF_OPERATIONS = [
    'query { reviewCase(id: "case-1") { id } }',
    'query { customerProfile(customerId: "sub-1", reason: "a dispute") { id } }',
    'mutation { waiveLateFee(planId: "plan-1", reason: "a stay", idempotencyKey: "waive-0001") { waived { sequence } } }',  # noqa: E501
    'mutation { suspendMerchant(merchantId: "demo-shop") { id } }',
]


@pytest.mark.parametrize("operation", STAFF_OPERATIONS)
def test_a_revoked_staff_token_does_nothing(
    operation: str, gateway: Any, minter: Any, cognito: Any, credit_service: Any, user_service: Any
) -> None:
    """Every staff operation, reads too (they show customers' data), asks Cognito first."""
    staff = minter.mint("approver-1", extra={"cognito:groups": ["operations-risk"]})
    cognito.revoked.add(staff)
    body = gateway.post("/graphql", json={"query": operation}, headers={"Authorization": staff}).json()
    assert body["errors"][0]["errorType"] == "UnauthorizedException", body
    assert credit_service.calls == [] and user_service.calls == []


def test_the_profile_is_read_while_cognito_is_asked_and_the_decision_waits_for_both(
    gql: Callable[..., dict[str, Any]], cognito: Any, user_service: Any, credit_service: Any, api: Any
) -> None:
    """Cognito answers only once the profile read has arrived: were the two asked one after the
    other, it would never answer (the revocation check times out and nothing is decided)."""
    read_arrived = asyncio.Event()
    cognito.before_answer = read_arrived.wait
    user_service.routes[("GET", "/v1/profile")] = lambda call: (read_arrived.set(), (200, api.customer()))[1]
    credit_service.routes[("POST", "/v1/applications")] = (201, api.application())
    body = gql(APPLY, {"key": "apply-0001"})
    assert "errors" not in body, body
    assert cognito.asked == 1 and len(credit_service.calls) == 1
