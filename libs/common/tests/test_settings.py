"""Settings read from the environment; placeholders refused outside local mode."""

from pathlib import Path
from typing import ClassVar

import pytest
from bnpl_common.settings import LOCAL_SIGV4_ACCESS_KEY_ID, CommonSettings
from pydantic import ValidationError


def test_environment_lists_and_key_pairs_are_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COGNITO_CLIENT_IDS", "a, b")
    monkeypatch.setenv("SERVICE_AUTH_KEYS", "K1:s1,K2:s2")
    monkeypatch.setenv("COGNITO_USER_POOL_ID", "eu-west-1_abc")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    s = CommonSettings()
    assert s.cognito_client_ids == ["a", "b"]
    assert s.service_auth_keys == {"K1": "s1", "K2": "s2"}
    assert s.cognito_issuer == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"
    assert s.cognito_jwks_url == s.cognito_issuer + "/.well-known/jwks.json"


def test_local_endpoint_only_moves_the_jwks() -> None:
    s = CommonSettings(cognito_user_pool_id="us-east-1_x", cognito_endpoint="http://127.0.0.1:9229/")
    assert s.cognito_jwks_url == "http://127.0.0.1:9229/us-east-1_x/.well-known/jwks.json"
    assert s.cognito_issuer.startswith("https://cognito-idp.us-east-1.amazonaws.com/")


def test_placeholder_secrets_are_refused_in_aws_mode() -> None:
    with pytest.raises(ValidationError, match="placeholder"):
        CommonSettings(bnpl_env="aws")
    ok = CommonSettings(bnpl_env="aws", service_auth_keys={LOCAL_SIGV4_ACCESS_KEY_ID: "a-real-secret"})
    assert not ok.is_local


class _ServiceSettings(CommonSettings):
    placeholder_secrets: ClassVar[frozenset[str]] = CommonSettings.placeholder_secrets | {"local-service-secret"}
    service_secret: str = "local-service-secret"

    def secret_values(self) -> dict[str, str]:
        return {**super().secret_values(), "SERVICE_SECRET": self.service_secret}


def test_a_service_adds_its_own_placeholders() -> None:
    real_keys = {LOCAL_SIGV4_ACCESS_KEY_ID: "a-real-secret"}
    with pytest.raises(ValidationError, match="SERVICE_SECRET holds a local placeholder"):
        _ServiceSettings(bnpl_env="aws", service_auth_keys=real_keys)
    assert _ServiceSettings(bnpl_env="aws", service_auth_keys=real_keys, service_secret="real").service_secret == "real"
    assert _ServiceSettings(bnpl_env="test").service_secret == "local-service-secret"
    assert "local-service-secret" not in CommonSettings.placeholder_secrets


def test_malformed_key_pairs_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVICE_AUTH_KEYS", "no-secret-here")
    with pytest.raises(ValidationError):
        CommonSettings()


def test_api_gateway_mode_needs_principals_and_skips_the_key_check() -> None:
    with pytest.raises(ValidationError, match="SERVICE_AUTH_PRINCIPALS"):
        CommonSettings(service_auth_mode="apigateway-iam")
    s = CommonSettings(
        bnpl_env="aws",
        service_auth_mode="apigateway-iam",
        service_auth_principals="arn:aws:iam::1:role/gw",  # type: ignore[arg-type]  # as the environment gives it
    )
    assert s.service_auth_principals == ["arn:aws:iam::1:role/gw"]


@pytest.mark.parametrize(
    "marker", ["ECS_CONTAINER_METADATA_URI_V4", "ECS_CONTAINER_METADATA_URI", "AWS_LAMBDA_FUNCTION_NAME"]
)
@pytest.mark.parametrize("env", ["local", "test", None])
def test_local_mode_is_refused_on_aws_runtimes(monkeypatch: pytest.MonkeyPatch, marker: str, env: str | None) -> None:
    """BNPL_ENV defaults to local; on ECS/Fargate or Lambda that default fails closed."""
    for name in ("ECS_CONTAINER_METADATA_URI_V4", "ECS_CONTAINER_METADATA_URI", "AWS_LAMBDA_FUNCTION_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("BNPL_ENV", raising=False)
    if env is not None:
        monkeypatch.setenv("BNPL_ENV", env)
    monkeypatch.setenv(marker, "http://169.254.170.2/v4/abc" if marker.startswith("ECS") else "bnpl-fn")
    with pytest.raises(ValidationError, match=f"{marker} is set.*BNPL_ENV=aws"):
        CommonSettings()
    monkeypatch.setenv("BNPL_ENV", "aws")
    monkeypatch.setenv("SERVICE_AUTH_KEYS", "AKIAREAL:a-real-secret")
    assert CommonSettings().bnpl_env == "aws"


def test_local_mode_off_aws_is_still_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ECS_CONTAINER_METADATA_URI_V4", "ECS_CONTAINER_METADATA_URI", "AWS_LAMBDA_FUNCTION_NAME", "BNPL_ENV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ECS_CONTAINER_METADATA_URI", "")  # set but empty: not a runtime marker
    assert CommonSettings().bnpl_env == "local"


@pytest.mark.parametrize("local_only", ["cognito_endpoint", "dynamodb_endpoint"])
def test_settings_that_point_at_a_local_stand_in_are_refused_in_aws_mode(local_only: str) -> None:
    """A local Cognito's key set would make forged tokens valid: fail closed, not open."""

    class WithEndpoints(CommonSettings):
        dynamodb_endpoint: str | None = None

    real_keys = {LOCAL_SIGV4_ACCESS_KEY_ID: "a-real-secret"}
    with pytest.raises(ValidationError, match=f"{local_only.upper()} points at a local stand-in"):
        WithEndpoints(bnpl_env="aws", service_auth_keys=real_keys, **{local_only: "http://127.0.0.1:9229"})
    assert WithEndpoints(bnpl_env="local", **{local_only: "http://127.0.0.1:9229"})
    assert WithEndpoints(bnpl_env="aws", service_auth_keys=real_keys).cognito_endpoint is None


def test_a_dotenv_file_is_read_locally_and_the_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("COGNITO_USER_POOL_ID=us-east-1_fromfile\nLOG_LEVEL=DEBUG\n", encoding="utf-8")
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    settings = CommonSettings()
    assert settings.cognito_user_pool_id == "us-east-1_fromfile"
    assert settings.log_level == "WARNING"


def test_a_dotenv_file_is_ignored_in_aws_mode(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("COGNITO_ENDPOINT=http://evil.example\n", encoding="utf-8")
    monkeypatch.setenv("BNPL_ENV", "aws")
    monkeypatch.setenv("SERVICE_AUTH_KEYS", "AKIAREAL:a-real-secret")
    assert CommonSettings().cognito_endpoint is None
