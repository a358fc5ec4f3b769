"""Money helpers and log hygiene."""

import io
import json
import logging

import pytest
from bnpl_common.logging import JsonFormatter, redact, request_id_var
from bnpl_common.money import Money, allocate, split_evenly
from pydantic import ValidationError


@pytest.mark.parametrize("total", [0, 1, 3, 4, 99, 100, 101, 20_001, 999_999_999])
@pytest.mark.parametrize("count", [1, 2, 3, 4, 6, 12])
def test_split_evenly_sums_exactly(total: int, count: int) -> None:
    parts = split_evenly(total, count)
    assert sum(parts) == total and len(parts) == count
    assert max(parts) - min(parts) <= 1
    assert parts == sorted(parts, reverse=True)


def test_allocate_by_weights() -> None:
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(-100, [1, 1, 1]) == [-34, -33, -33]
    assert sum(allocate(12_345, [25, 25, 25, 25])) == 12_345
    with pytest.raises(ValueError):
        allocate(10, [0, 0])


def test_money_refuses_floats_and_unknown_currencies() -> None:
    with pytest.raises(ValidationError):
        Money(amount=1.5, currency="EUR")  # type: ignore[arg-type]  # the point: a float is refused
    with pytest.raises(ValidationError):
        Money(amount=1, currency="XYZ")
    assert (Money(amount=150, currency="EUR") + Money(amount=5, currency="EUR")).format() == "EUR 1.55"
    with pytest.raises(ValueError):
        _ = Money(amount=1, currency="EUR") + Money(amount=1, currency="USD")


def test_json_logs_redact_secrets_and_carry_the_request_id() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("test"))
    logger = logging.getLogger("bnpl.test.redaction")
    logger.handlers[:] = [handler]
    logger.propagate = False
    token = request_id_var.set("req-123")
    try:
        logger.warning(
            "user eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl signed in",
            extra={"authorization": "Bearer x", "otp_code": "123456", "customer_id": "c-1"},
        )
    finally:
        request_id_var.reset(token)
    entry = json.loads(stream.getvalue())
    assert entry["request_id"] == "req-123"
    assert entry["authorization"] == "[redacted]" and entry["otp_code"] == "[redacted]"
    assert entry["customer_id"] == "c-1"
    assert "eyJ" not in stream.getvalue()


def test_redact_recurses() -> None:
    assert redact({"a": {"password": "p", "ok": 1}, "list": [{"token": "t"}]}) == {
        "a": {"password": "[redacted]", "ok": 1},
        "list": [{"token": "[redacted]"}],
    }
