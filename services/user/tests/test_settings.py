"""Settings: defaults, and what BNPL_ENV=aws refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from bnpl_user.settings import Settings
from pydantic import ValidationError

REAL_KEYS = {"AKIAREALCALLER000001": "a-real-secret-from-secrets-manager"}
# a real person-key secret and profile signing seed (32 bytes, base64url), as Secrets Manager would hold
REAL_IDENTITY = {
    "person_key_secret": "a-real-person-key-secret-0123456789",
    "profile_signing_key": "cmVhbC1wcm9maWxlLXNpZ25pbmctc2VlZC0zMmJ5dGU",
}


def test_defaults() -> None:
    s = Settings(_env_file=None)  # type: ignore[call-arg]  # a pydantic-settings init option mypy cannot see
    assert s.user_db_path == Path(".data/user.sqlite3")
    assert s.sms_outbox_path == Path(".data/sms-outbox.jsonl")
    assert (s.sms_notifier, s.otp_ttl_seconds, s.otp_max_attempts, s.otp_resend_seconds) == ("outbox", 600, 5, 30)
    assert (s.user_host, s.user_port) == ("127.0.0.1", 8001)
    assert (s.user_store, s.user_table, s.dynamodb_endpoint) == ("sqlite", "bnpl-user", None)


def test_dynamodb_settings_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USER_STORE", "dynamodb")
    monkeypatch.setenv("USER_TABLE", "bnpl-user-prod")
    monkeypatch.setenv("DYNAMODB_ENDPOINT", "http://localhost:8000")
    s = Settings()
    assert (s.user_store, s.user_table, s.dynamodb_endpoint) == ("dynamodb", "bnpl-user-prod", "http://localhost:8000")
    monkeypatch.setenv("USER_STORE", "postgres")
    with pytest.raises(ValidationError, match="user_store"):
        Settings()


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USER_PORT", "9001")
    monkeypatch.setenv("SMS_NOTIFIER", "end-user-messaging")
    monkeypatch.setenv("OTP_TTL_SECONDS", "300")
    s = Settings()
    assert (s.user_port, s.sms_notifier, s.otp_ttl_seconds) == (9001, "end-user-messaging", 300)


def test_aws_refuses_the_placeholder_pepper() -> None:
    with pytest.raises(ValidationError, match="OTP_PEPPER"):
        Settings(bnpl_env="aws", service_auth_keys=REAL_KEYS, sms_notifier="end-user-messaging")


def test_aws_refuses_the_outbox() -> None:
    with pytest.raises(ValidationError, match="SMS_NOTIFIER"):
        Settings(bnpl_env="aws", service_auth_keys=REAL_KEYS, otp_pepper="a-real-pepper-0123456789", **REAL_IDENTITY)


def test_aws_with_real_values_is_accepted() -> None:
    s = Settings(
        bnpl_env="aws",
        service_auth_keys=REAL_KEYS,
        otp_pepper="a-real-pepper-0123456789",
        sms_notifier="end-user-messaging",
        **REAL_IDENTITY,
    )
    assert s.secret_values()["OTP_PEPPER"] == "a-real-pepper-0123456789"


@pytest.mark.parametrize("placeholder", ["person_key_secret", "profile_signing_key"])
def test_aws_refuses_the_local_identity_keys(placeholder: str) -> None:
    real = {name: value for name, value in REAL_IDENTITY.items() if name != placeholder}
    with pytest.raises(ValidationError, match=placeholder.upper()):
        Settings(
            bnpl_env="aws",
            service_auth_keys=REAL_KEYS,
            otp_pepper="a-real-pepper-0123456789",
            sms_notifier="end-user-messaging",
            **real,
        )


def test_a_bad_profile_signing_key_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="32-byte Ed25519 seed"):
        Settings(profile_signing_key="too-short")
