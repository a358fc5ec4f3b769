"""The Stripe adapter's edges that the shared contract does not reach: Stripe failing, a card
refused when it is saved, event mapping, and the settings that choose the adapter."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from bnpl_common.money import Money
from bnpl_common.testing import free_port
from bnpl_credit.psp import (
    ChargeStatus,
    PaymentMethodType,
    PspEventType,
    PspSettings,
    PspUnavailable,
    RefundStatus,
    SandboxPsp,
    SetupStatus,
    StripePsp,
    WebhookSignatureInvalid,
    create_psp,
)
from bnpl_credit.psp.stripe_adapter import event_record, setup_state
from bnpl_credit.psp.testing import TEST_API_KEY, TEST_WEBHOOK_SECRET, RecordedStripe, sign_stripe_webhook

FIXTURES = Path(__file__).parent / "fixtures" / "stripe"

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.filterwarnings("ignore:Use 'content=<...>' to upload raw bytes/text content:DeprecationWarning"),
]


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def recorded() -> Iterator[RecordedStripe]:
    server = RecordedStripe()
    yield server
    server.close()


def adapter(base: str, retries: int = 0) -> StripePsp:
    return StripePsp(
        api_key=TEST_API_KEY, webhook_secret=TEST_WEBHOOK_SECRET, api_base=base, max_network_retries=retries
    )


def recorded_event(story: str, kind: str) -> dict[str, object]:
    return json.loads((FIXTURES / f"{story}.json").read_text())["webhooks"][kind]


async def test_stripe_answering_5xx_is_unavailable_after_the_sdks_retries(recorded: RecordedStripe) -> None:
    recorded.respond_with(
        500,
        {"error": {"type": "api_error", "message": "An unknown error occurred"}},
        method="POST",
        path="/v1/payment_intents",
        times=3,
        idempotency_key="installment-x-1-0001",
    )
    psp = adapter(recorded.url, retries=2)
    try:
        with pytest.raises(PspUnavailable):
            await psp.charge(
                customer_id="cus_x",
                payment_method_id="pm_x",
                amount=Money(amount=2500, currency="EUR"),
                idempotency_key="installment-x-1-0001",
                description="Installment 1 of 4",
            )
    finally:
        await psp.aclose()
    recorded.verify()  # three tries, each with the installment's key (checked by the recording)


async def test_a_refused_api_key_is_unavailable_not_a_decline(recorded: RecordedStripe) -> None:
    body = {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided: sk_test_****"}}
    recorded.respond_with(401, body, method="POST", path="/v1/customers")
    psp = adapter(recorded.url)
    try:
        with pytest.raises(PspUnavailable):
            await psp.create_customer(reference="customer-x", idempotency_key="customer-x-0001")
    finally:
        await psp.aclose()
    recorded.verify()


async def test_stripe_unreachable_is_unavailable() -> None:
    psp = adapter(f"http://127.0.0.1:{free_port()}")
    try:
        with pytest.raises(PspUnavailable):
            await psp.get_charge("pi_123")
    finally:
        await psp.aclose()


async def test_the_sdk_logs_no_request_or_response_body(
    recorded: RecordedStripe, caplog: pytest.LogCaptureFixture
) -> None:
    intent = json.loads((FIXTURES / "card_charge_succeeds.json").read_text())["exchanges"][1]["response"]["body"]
    recorded.respond_with(200, intent, method="POST", path="/v1/setup_intents", idempotency_key="setup-z-0001")
    caplog.set_level(logging.DEBUG)
    psp = adapter(recorded.url)
    try:
        setup = await psp.start_setup(
            customer_id="cus_z", method=PaymentMethodType.CARD, return_url="http://x", idempotency_key="setup-z-0001"
        )
    finally:
        await psp.aclose()
    recorded.verify()
    assert setup.client_secret == intent["client_secret"]
    assert intent["client_secret"] not in caplog.text and "cus_z" not in caplog.text


def test_a_card_refused_when_saved_reads_as_a_failed_setup_with_its_decline_code() -> None:
    # Stripe checks a card when it is attached: a declining card may fail here already
    intent = {
        "id": "seti_123",
        "object": "setup_intent",
        "customer": "cus_123",
        "status": "requires_payment_method",
        "payment_method": None,
        "last_setup_error": {"type": "card_error", "code": "card_declined", "decline_code": "generic_decline"},
    }
    state = setup_state(intent)
    assert (state.status, state.error_code, state.payment_method_id) == (SetupStatus.FAILED, "generic_decline", None)
    assert setup_state({**intent, "last_setup_error": None}).status is SetupStatus.PENDING


def test_recorded_events_map_to_the_domain() -> None:
    failed = event_record(recorded_event("card_charge_declined_insufficient_funds", "payment_intent.payment_failed"))
    assert failed.type is PspEventType.CHARGE_FAILED and failed.charge is not None
    assert (failed.charge.status, failed.charge.decline_code) == (ChargeStatus.FAILED, "insufficient_funds")
    assert failed.charge.amount == Money(amount=2500, currency="EUR")

    refund = event_record(recorded_event("card_refund", "refund.created"))
    assert refund.refund is not None and refund.refund.status is RefundStatus.SUCCEEDED

    other = event_record({**recorded_event("card_refund", "refund.created"), "type": "customer.updated"})
    assert other.type is PspEventType.OTHER and (other.charge, other.refund, other.setup) == (None, None, None)


def test_a_signed_body_that_is_not_an_event_is_refused() -> None:
    psp = adapter("http://127.0.0.1:9")
    payload = b'{"hello": "world"}'
    with pytest.raises(WebhookSignatureInvalid):
        psp.parse_webhook(payload, sign_stripe_webhook(payload, TEST_WEBHOOK_SECRET))


def test_settings_choose_the_adapter_and_refuse_sandbox_keys_for_stripe(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(create_psp(PspSettings()), SandboxPsp)
    with pytest.raises(ValueError, match="PSP_API_KEY"):
        PspSettings(psp="stripe")
    with pytest.raises(ValueError, match="whsec_"):
        PspSettings(psp="stripe", psp_api_key="sk_live_real", psp_webhook_secret="not-a-signing-secret")
    monkeypatch.setenv("PSP", "stripe")
    monkeypatch.setenv("PSP_API_KEY", "rk_live_restricted")
    monkeypatch.setenv("PSP_WEBHOOK_SECRET", "whsec_endpoint")
    psp = create_psp(PspSettings())
    assert isinstance(psp, StripePsp) and not isinstance(psp, SandboxPsp)


def test_the_sandbox_is_refused_on_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="PSP=sandbox"):
        PspSettings(bnpl_env="aws")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "credit")
    with pytest.raises(ValueError, match="AWS_LAMBDA_FUNCTION_NAME"):
        PspSettings()
