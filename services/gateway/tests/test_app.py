"""Settings and HTTP surface: GraphiQL only in local mode, CORS only when configured."""

import pytest
from bnpl_gateway.main import create_app
from bnpl_gateway.settings import Settings
from fastapi.testclient import TestClient
from pydantic import ValidationError

AWS = {"bnpl_env": "aws", "service_signing": "aws", "service_auth_keys": {"AKIAREALKEY": "a-real-secret"}}


def test_graphiql_is_served_locally(build_gateway) -> None:
    gateway: TestClient = build_gateway(bnpl_env="local")
    r = gateway.get("/graphql", headers={"Accept": "text/html"})
    assert r.status_code == 200
    assert "graphiql" in r.text.lower()


@pytest.mark.parametrize("graphiql", [None, True])
def test_graphiql_is_off_in_aws(build_gateway, graphiql: bool | None) -> None:
    gateway: TestClient = build_gateway(graphiql=graphiql, **AWS)
    r = gateway.get("/graphql", headers={"Accept": "text/html"})
    assert r.status_code == 404
    assert "graphiql" not in r.text.lower()
    assert "<html" not in r.text.lower()
    # Strawberry refuses in plain text; the route class answers in AppSync's JSON.
    assert r.json() == {"errors": [{"errorType": "NotFound", "message": "Not Found"}]}


def test_queries_over_get_are_not_executed(gateway: TestClient, token: str, user_service) -> None:
    r = gateway.get("/graphql", params={"query": "{ me { id } }"}, headers={"Authorization": token})
    assert r.status_code != 200 or "errors" in r.json()
    assert r.headers["content-type"] == "application/json"
    assert user_service.calls == []


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USER_SERVICE_URL", "http://user:8001")
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", "http://localhost:3000, https://shop.example")
    monkeypatch.setenv("GATEWAY_PORT", "9000")
    settings = Settings()
    assert settings.user_service_url == "http://user:8001"
    assert settings.cors_allow_origins == ["http://localhost:3000", "https://shop.example"]
    assert settings.gateway_port == 9000 and settings.credit_service_url == "http://127.0.0.1:8002"


def test_defaults() -> None:
    settings = Settings(bnpl_env="local")
    assert settings.service_signing == "local" and settings.gateway_host == "127.0.0.1"
    assert settings.graphiql_enabled
    assert not Settings(bnpl_env="test").graphiql_enabled
    assert settings.cors_allow_origins == []


def test_aws_refuses_the_local_signing_key() -> None:
    with pytest.raises(ValidationError, match="SERVICE_SIGNING"):
        Settings(bnpl_env="aws", service_auth_keys={"AKIAREALKEY": "a-real-secret"})


def test_aws_needs_no_service_auth_keys() -> None:
    """The gateway only calls the services: no secret of theirs is injected into its task."""
    settings = Settings(bnpl_env="aws", service_signing="aws")
    assert settings.secret_values() == {}
    assert not settings.introspection_enabled and settings.hsts_enabled
    local = Settings(bnpl_env="local")
    assert local.introspection_enabled and not local.hsts_enabled


def test_no_client_ids_is_a_startup_error() -> None:
    app = create_app(Settings(bnpl_env="test", cognito_client_ids=[]))
    with pytest.raises(RuntimeError, match="COGNITO_CLIENT_IDS"), TestClient(app):
        pass


def test_cors_when_configured(build_gateway) -> None:
    gateway: TestClient = build_gateway(cors_allow_origins=["https://shop.example"])
    r = gateway.options(
        "/graphql",
        headers={
            "Origin": "https://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "https://shop.example"
