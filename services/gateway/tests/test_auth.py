"""AppSync's authorization: a Cognito access token, checked before anything executes."""

from __future__ import annotations

from typing import Any

import pytest
from bnpl_common.testing import TokenMinter
from fastapi.testclient import TestClient
from fastapi.websockets import WebSocketDisconnect

APPSYNC_401 = {
    "errors": [{"errorType": "UnauthorizedException", "message": "You are not authorized to make this call."}]
}
ME = {"query": "{ me { id } }"}


@pytest.mark.parametrize(
    "claims",
    [
        {"token_use": "id"},
        {"client_id": "another-app-client"},
        {"issuer": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"},
        {"expires_in": -60},
        {"omit": ["exp"]},
        {"algorithm": "HS256"},
    ],
    ids=["id-token", "other-client", "other-pool", "expired", "no-exp", "hs256"],
)
def test_bad_tokens_get_appsync_401(gateway: TestClient, minter: TokenMinter, user_service, claims: dict) -> None:
    r = gateway.post("/graphql", json=ME, headers={"Authorization": minter.mint(**claims)})
    assert r.status_code == 401
    assert r.json() == APPSYNC_401
    assert user_service.calls == []


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": ""}, {"Authorization": "Bearer"}, {"Authorization": "garbage"}, {"Authorization": "a.b.c"}],
)
def test_missing_or_garbage_token_gets_401(gateway: TestClient, user_service, headers: dict[str, str]) -> None:
    r = gateway.post("/graphql", json=ME, headers=headers)
    assert r.status_code == 401
    assert r.json() == APPSYNC_401
    assert user_service.calls == []


def test_token_of_another_key_gets_401(gateway: TestClient) -> None:
    r = gateway.post("/graphql", json=ME, headers={"Authorization": TokenMinter().mint()})
    assert r.status_code == 401


def test_even_invalid_queries_are_refused_before_validation(gateway: TestClient) -> None:
    r = gateway.post("/graphql", json={"query": "{ nope"})
    assert r.status_code == 401
    assert r.json() == APPSYNC_401


@pytest.mark.parametrize("scheme", ["", "Bearer ", "bearer "])
def test_access_token_with_or_without_bearer(
    gateway: TestClient, user_service, api: Any, token: str, scheme: str
) -> None:
    user_service.routes[("GET", "/v1/profile")] = (200, api.customer())
    r = gateway.post("/graphql", json=ME, headers={"Authorization": scheme + token})
    assert r.status_code == 200, r.text
    assert r.json() == {"data": {"me": {"id": api.sub}}}


def test_health_routes_need_no_token(gateway: TestClient) -> None:
    assert gateway.get("/livez").json() == {"status": "ok"}
    assert gateway.get("/readyz").status_code == 200


def test_the_token_is_checked_before_the_body_is_read(gateway: TestClient, token: str) -> None:
    """A body that is not even JSON: without a token it is never parsed (401), with one it is (400)."""
    r = gateway.post("/graphql", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 401
    assert r.json() == APPSYNC_401
    r = gateway.post(
        "/graphql", content=b"{not json", headers={"Content-Type": "application/json", "Authorization": token}
    )
    assert r.status_code == 400
    assert r.json()["errors"][0]["errorType"] == "MalformedHttpRequestException"


def test_no_websocket_handshake_is_accepted(gateway: TestClient, token: str) -> None:
    """There are no subscriptions: the handshake is refused before any protocol is spoken."""
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        gateway.websocket_connect(
            "/graphql", subprotocols=["graphql-transport-ws"], headers={"Authorization": token}
        ) as ws,
    ):
        ws.receive_json()
    assert refused.value.code == 1008
