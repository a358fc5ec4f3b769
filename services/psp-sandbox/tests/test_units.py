"""Pure parts: check digits, Stripe's form encoding, settings that refuse AWS."""

from __future__ import annotations

import pytest
from bnpl_psp_sandbox.cards import TEST_CARDS, TEST_IBANS, iban_valid, luhn_valid
from bnpl_psp_sandbox.forms import decode_form
from bnpl_psp_sandbox.settings import Settings


def test_every_test_number_passes_its_check_digits_and_a_changed_digit_does_not() -> None:
    assert all(luhn_valid(number) for number in TEST_CARDS)
    assert all(iban_valid(iban) for iban in TEST_IBANS)
    assert not luhn_valid("4242424242424241") and not luhn_valid("42424242x4242424")
    assert not iban_valid("DE89370400440532013001") and not iban_valid("DE")


def test_stripe_form_encoding_decodes_to_nested_objects() -> None:
    body = b"metadata[a]=1&metadata[b]=&allowed_payment_method_types[0]=card&allowed_payment_method_types[1]=sepa_debit"
    assert decode_form(body + b"&amount=10") == {
        "metadata": {"a": "1", "b": ""},
        "allowed_payment_method_types": ["card", "sepa_debit"],
        "amount": "10",
    }


def test_the_sandbox_refuses_to_run_on_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECS_CONTAINER_METADATA_URI_V4", "http://169.254.170.2/v4/x")
    with pytest.raises(ValueError, match="local runs and tests only"):
        Settings()


def test_the_webhook_secret_must_be_stripe_shaped() -> None:
    with pytest.raises(ValueError, match="whsec_"):
        Settings(webhook_secret="plain")
