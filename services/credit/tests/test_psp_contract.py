"""One contract for both PSP adapters: the sandbox PSP as a real process over HTTP, and the Stripe
adapter against recorded Stripe API responses served by a local server (Stripe is unreachable
here). Each test is one shopper's story; the sandbox plays it for real, the recording replays
what Stripe answered, and the adapter must give the same domain results from both."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from bnpl_common.money import Money
from bnpl_credit.psp import (
    ChargeStatus,
    PaymentMethodStatus,
    PaymentMethodType,
    PspEventType,
    PspIdempotencyConflict,
    PspObjectNotFound,
    PspRequestRejected,
    RefundStatus,
    SandboxPsp,
    SetupSession,
    SetupStatus,
    StripePsp,
    WebhookSignatureInvalid,
)
from bnpl_credit.psp.testing import (
    TEST_API_KEY,
    TEST_WEBHOOK_SECRET,
    Cassette,
    RecordedStripe,
    WebhookReceiver,
    sandbox_process,
    sandbox_url,
    sign_stripe_webhook,
)

FIXTURES = Path(__file__).parent / "fixtures" / "stripe"
RETURN_URL = "http://127.0.0.1:8000/checkout/plan?order=1001"
SANDBOX_KEY = "sk_test_sandbox_contract"
SANDBOX_WEBHOOK_SECRET = "whsec_sandbox_contract"
EUR = "EUR"

pytestmark = [
    pytest.mark.anyio,
    # Stripe's SDK hands httpx its form body as text; httpx wants ``content=`` for that
    pytest.mark.filterwarnings("ignore:Use 'content=<...>' to upload raw bytes/text content:DeprecationWarning"),
]


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Harness:
    """Drives one adapter through a story; stands in for the shopper on the PSP's page."""

    name: str
    recorded: RecordedStripe | None = None
    sandbox: str | None = None
    receiver: WebhookReceiver | None = None
    cassette: Cassette | None = None

    def story(self, name: str) -> None:
        if self.recorded is not None:
            self.cassette = Cassette.load(FIXTURES / f"{name}.json")
            self.recorded.play(self.cassette)

    @asynccontextmanager
    async def psp(self) -> AsyncIterator[StripePsp]:
        if self.recorded is not None:
            # no SDK retries: every request must be the recorded one
            adapter = StripePsp(
                api_key=TEST_API_KEY,
                webhook_secret=TEST_WEBHOOK_SECRET,
                api_base=self.recorded.url,
                max_network_retries=0,
            )
        else:
            assert self.sandbox is not None
            adapter = SandboxPsp(api_base=self.sandbox, api_key=SANDBOX_KEY, webhook_secret=SANDBOX_WEBHOOK_SECRET)
        try:
            yield adapter
        finally:
            await adapter.aclose()
        if self.recorded is not None:
            self.recorded.verify()

    def _page(self, setup: SetupSession, action: str, body: dict[str, Any]) -> dict[str, Any]:
        assert self.sandbox is not None and setup.page_url is not None
        assert setup.page_url.startswith(f"{self.sandbox}/setup/{setup.setup_id}?return_url=")
        assert setup.page_url.endswith(f"#{setup.client_secret}")  # the secret never reaches a server log
        response = httpx.post(
            f"{self.sandbox}/setup/{setup.setup_id}/{action}",
            json={"client_secret": setup.client_secret, "return_url": RETURN_URL, **body},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    def enter_card(self, setup: SetupSession, number: str) -> None:
        """What the shopper types on the PSP's page (Stripe: its Payment Element; the recording has the result)."""
        if self.sandbox is None:
            assert setup.page_url is None  # Stripe's page is ours, with the Payment Element
            return
        card = {"number": number, "exp_month": "12", "exp_year": "34", "cvc": "123"}
        self._page(setup, "confirm", {"type": "card", "card": card})

    def enter_iban(self, setup: SetupSession, iban: str) -> None:
        if self.sandbox is None:
            return
        details = {"name": "Ana Ruiz", "email": "ana@example.com"}
        self._page(setup, "confirm", {"type": "sepa_debit", "sepa_debit": {"iban": iban}, "billing_details": details})

    def authenticate(self, setup: SetupSession, *, complete: bool) -> None:
        if self.sandbox is not None:
            self._page(setup, "authenticate", {"outcome": "complete" if complete else "fail"})

    def webhook(self, event_type: str, object_id: str) -> tuple[bytes, dict[str, str]]:
        """The PSP's webhook about ``object_id``: delivered by the sandbox, or Stripe's recorded one signed now."""
        if self.receiver is not None:
            return self.receiver.wait_for(event_type, object_id)
        assert self.cassette is not None
        event = self.cassette.webhooks[event_type]
        assert event["data"]["object"]["id"] == object_id
        payload = json.dumps(event, indent=2).encode()  # Stripe sends pretty-printed JSON
        return payload, sign_stripe_webhook(payload, TEST_WEBHOOK_SECRET)


@pytest.fixture(scope="module")
def recorded() -> Iterator[RecordedStripe]:
    server = RecordedStripe()
    yield server
    server.close()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, WebhookReceiver]]:
    receiver = WebhookReceiver()
    data_dir = tmp_path_factory.mktemp("psp-sandbox")
    with sandbox_process(
        data_dir,
        webhook_url=receiver.url,
        api_key=SANDBOX_KEY,
        webhook_secret=SANDBOX_WEBHOOK_SECRET,
        sepa_settle_seconds="0.5",
    ) as process:
        yield sandbox_url(process), receiver
    receiver.close()


@pytest.fixture(params=["sandbox", "stripe"])
def harness(request: pytest.FixtureRequest) -> Harness:
    if request.param == "stripe":
        return Harness("stripe", recorded=request.getfixturevalue("recorded"))
    url, receiver = request.getfixturevalue("sandbox")
    return Harness("sandbox", sandbox=url, receiver=receiver)


async def saved_card(psp: StripePsp, harness: Harness, ref: str, number: str) -> tuple[str, str]:
    customer = await psp.create_customer(reference=ref, idempotency_key=f"customer-{ref}-0001")
    setup = await psp.start_setup(
        customer_id=customer.id,
        method=PaymentMethodType.CARD,
        return_url=RETURN_URL,
        idempotency_key=f"setup-{ref}-0001",
    )
    assert setup.method is PaymentMethodType.CARD and setup.client_secret.startswith(f"{setup.setup_id}_secret_")
    harness.enter_card(setup, number)
    state = await psp.get_setup(setup.setup_id)
    assert state.status is SetupStatus.SUCCEEDED and state.customer_id == customer.id
    assert state.payment_method_id is not None
    return customer.id, state.payment_method_id


async def test_a_saved_card_is_charged_once_per_idempotency_key(harness: Harness) -> None:
    harness.story("card_charge_succeeds")
    async with harness.psp() as psp:
        customer, pm = await saved_card(psp, harness, "customer-a", "4242424242424242")
        method = await psp.get_payment_method(pm)
        assert (method.type, method.brand, method.last4, method.exp_month, method.exp_year) == (
            PaymentMethodType.CARD,
            "visa",
            "4242",
            12,
            2034,
        )
        assert method.customer_id == customer and method.status is PaymentMethodStatus.ATTACHED

        amount = Money(amount=2500, currency=EUR)
        charge = await psp.charge(
            customer_id=customer,
            payment_method_id=pm,
            amount=amount,
            idempotency_key="installment-a-1-0001",
            description="Installment 1 of 4",
        )
        assert charge.status is ChargeStatus.SUCCEEDED and charge.amount == amount
        assert charge.charge_id.startswith("pi_") and charge.decline_code is None

        retry = await psp.charge(
            customer_id=customer,
            payment_method_id=pm,
            amount=amount,
            idempotency_key="installment-a-1-0001",
            description="Installment 1 of 4",
        )
        assert retry == charge  # the same payment, not a second one

        with pytest.raises(PspIdempotencyConflict):
            await psp.charge(
                customer_id=customer,
                payment_method_id=pm,
                amount=Money(amount=2600, currency=EUR),
                idempotency_key="installment-a-1-0001",
                description="Installment 1 of 4",
            )
        assert await psp.get_charge(charge.charge_id) == charge

        payload, headers = harness.webhook("payment_intent.succeeded", charge.charge_id)
        event = psp.parse_webhook(payload, headers)
        assert event.type is PspEventType.CHARGE_SUCCEEDED and event.psp_type == "payment_intent.succeeded"
        assert event.charge == charge and event.id.startswith("evt_")


@pytest.mark.parametrize(
    ("number", "decline_code", "story"),
    [
        ("4000000000000002", "generic_decline", "card_charge_declined_generic_decline"),
        ("4000000000009995", "insufficient_funds", "card_charge_declined_insufficient_funds"),
    ],
)
async def test_a_declined_charge_is_a_failed_result_with_the_decline_code(
    harness: Harness, number: str, decline_code: str, story: str
) -> None:
    harness.story(story)
    ref = {"generic_decline": "customer-b", "insufficient_funds": "customer-c"}[decline_code]
    async with harness.psp() as psp:
        customer, pm = await saved_card(psp, harness, ref, number)
        assert (await psp.get_payment_method(pm)).last4 == number[-4:]
        charge = await psp.charge(
            customer_id=customer,
            payment_method_id=pm,
            amount=Money(amount=2500, currency=EUR),
            idempotency_key=f"installment-{ref[-1]}-1-0001",
            description="Installment 1 of 4",
        )
        assert charge.status is ChargeStatus.FAILED and charge.decline_code == decline_code
        expected = {
            "generic_decline": "Your card was declined.",
            "insufficient_funds": "Your card has insufficient funds.",
        }
        assert charge.message == expected[decline_code]

        event = psp.parse_webhook(*harness.webhook("payment_intent.payment_failed", charge.charge_id))
        assert event.type is PspEventType.CHARGE_FAILED
        assert event.charge is not None and event.charge.decline_code == decline_code


async def test_a_card_that_always_wants_3ds_cannot_be_charged_off_session(harness: Harness) -> None:
    harness.story("card_requires_authentication")
    async with harness.psp() as psp:
        customer = await psp.create_customer(reference="customer-d", idempotency_key="customer-customer-d-0001")
        setup = await psp.start_setup(
            customer_id=customer.id,
            method=PaymentMethodType.CARD,
            return_url=RETURN_URL,
            idempotency_key="setup-customer-d-0001",
        )
        harness.enter_card(setup, "4000000000003220")
        assert (await psp.get_setup(setup.setup_id)).status is SetupStatus.REQUIRES_ACTION
        harness.authenticate(setup, complete=True)
        state = await psp.get_setup(setup.setup_id)
        assert state.status is SetupStatus.SUCCEEDED and state.payment_method_id
        assert (await psp.get_payment_method(state.payment_method_id)).last4 == "3220"

        charge = await psp.charge(
            customer_id=customer.id,
            payment_method_id=state.payment_method_id,
            amount=Money(amount=2500, currency=EUR),
            idempotency_key="installment-d-1-0001",
            description="Installment 1 of 4",
        )
        assert charge.status is ChargeStatus.REQUIRES_ACTION and charge.decline_code == "authentication_required"

        event = psp.parse_webhook(*harness.webhook("payment_intent.payment_failed", charge.charge_id))
        assert event.charge is not None and event.charge.status is ChargeStatus.REQUIRES_ACTION


async def test_a_failed_authentication_saves_nothing_and_the_shopper_can_try_again(harness: Harness) -> None:
    harness.story("card_authentication_failed_then_saved")
    async with harness.psp() as psp:
        customer = await psp.create_customer(reference="customer-e", idempotency_key="customer-customer-e-0001")
        setup = await psp.start_setup(
            customer_id=customer.id,
            method=PaymentMethodType.CARD,
            return_url=RETURN_URL,
            idempotency_key="setup-customer-e-0001",
        )
        harness.enter_card(setup, "4000002500003155")
        harness.authenticate(setup, complete=False)
        failed = await psp.get_setup(setup.setup_id)
        assert failed.status is SetupStatus.FAILED and failed.payment_method_id is None
        assert failed.error_code == "setup_intent_authentication_failure"

        harness.enter_card(setup, "4000002500003155")
        harness.authenticate(setup, complete=True)
        saved = await psp.get_setup(setup.setup_id)
        assert saved.status is SetupStatus.SUCCEEDED and saved.payment_method_id
        # authenticated once when saved: later off-session payments go through
        charge = await psp.charge(
            customer_id=customer.id,
            payment_method_id=saved.payment_method_id,
            amount=Money(amount=2500, currency=EUR),
            idempotency_key="installment-e-1-0001",
            description="Installment 1 of 4",
        )
        assert charge.status is ChargeStatus.SUCCEEDED


async def test_a_refund_goes_back_through_the_psp_once_per_key_and_never_exceeds_the_charge(harness: Harness) -> None:
    harness.story("card_refund")
    async with harness.psp() as psp:
        customer = await psp.create_customer(reference="customer-f", idempotency_key="customer-customer-f-0001")
        setup = await psp.start_setup(
            customer_id=customer.id,
            method=PaymentMethodType.CARD,
            return_url=RETURN_URL,
            idempotency_key="setup-customer-f-0001",
        )
        harness.enter_card(setup, "4242424242424242")
        state = await psp.get_setup(setup.setup_id)
        assert state.payment_method_id
        charge = await psp.charge(
            customer_id=customer.id,
            payment_method_id=state.payment_method_id,
            amount=Money(amount=10000, currency=EUR),
            idempotency_key="installment-f-1-0001",
            description="Installment 1 of 1",
        )
        assert charge.status is ChargeStatus.SUCCEEDED

        part = Money(amount=4000, currency=EUR)
        refund = await psp.refund(charge_id=charge.charge_id, amount=part, idempotency_key="refund-f-1-0001")
        assert refund.status is RefundStatus.SUCCEEDED and refund.amount == part
        assert refund.charge_id == charge.charge_id and refund.id.startswith("re_")
        assert await psp.refund(charge_id=charge.charge_id, amount=part, idempotency_key="refund-f-1-0001") == refund

        with pytest.raises(PspRequestRejected) as too_much:
            await psp.refund(
                charge_id=charge.charge_id, amount=Money(amount=7000, currency=EUR), idempotency_key="refund-f-2-0001"
            )
        assert too_much.value.field == "amount"

        event = psp.parse_webhook(*harness.webhook("refund.created", refund.id))
        assert event.type is PspEventType.REFUND_UPDATED and event.refund == refund


async def test_a_sepa_debit_is_processing_until_a_webhook_settles_it(harness: Harness) -> None:
    harness.story("sepa_debit_charge_settles")
    async with harness.psp() as psp:
        customer = await psp.create_customer(reference="customer-g", idempotency_key="customer-customer-g-0001")
        setup = await psp.start_setup(
            customer_id=customer.id,
            method=PaymentMethodType.SEPA_DEBIT,
            return_url=RETURN_URL,
            idempotency_key="setup-customer-g-0001",
        )
        harness.enter_iban(setup, "DE89370400440532013000")
        state = await psp.get_setup(setup.setup_id)
        assert state.status is SetupStatus.SUCCEEDED and state.payment_method_id
        method = await psp.get_payment_method(state.payment_method_id)
        assert (method.type, method.brand, method.last4, method.exp_month) == (
            PaymentMethodType.SEPA_DEBIT,
            "sepa_debit",
            "3000",
            None,
        )
        charge = await psp.charge(
            customer_id=customer.id,
            payment_method_id=method.id,
            amount=Money(amount=2500, currency=EUR),
            idempotency_key="installment-g-1-0001",
            description="Installment 1 of 4",
        )
        assert charge.status is ChargeStatus.PROCESSING

        event = psp.parse_webhook(*harness.webhook("payment_intent.succeeded", charge.charge_id))
        assert event.type is PspEventType.CHARGE_SUCCEEDED
        assert event.charge is not None and event.charge.status is ChargeStatus.SUCCEEDED
        assert (await psp.get_charge(charge.charge_id)).status is ChargeStatus.SUCCEEDED


async def test_charging_a_payment_method_that_does_not_exist_is_not_found(harness: Harness) -> None:
    harness.story("unknown_payment_method")
    async with harness.psp() as psp:
        customer = await psp.create_customer(reference="customer-h", idempotency_key="customer-customer-h-0001")
        with pytest.raises(PspObjectNotFound) as missing:
            await psp.charge(
                customer_id=customer.id,
                payment_method_id="pm_doesnotexist000000",
                amount=Money(amount=2500, currency=EUR),
                idempotency_key="installment-h-1-0001",
                description="Installment 1 of 4",
            )
        assert missing.value.field == "payment_method"


async def test_webhooks_with_a_bad_signature_are_refused(harness: Harness) -> None:
    harness.story("webhook_signature")
    async with harness.psp() as psp:
        customer, pm = await saved_card(psp, harness, "customer-w", "4242424242424242")
        charge = await psp.charge(
            customer_id=customer,
            payment_method_id=pm,
            amount=Money(amount=2500, currency=EUR),
            idempotency_key="installment-w-1-0001",
            description="Installment 1 of 4",
        )
        payload, headers = harness.webhook("payment_intent.succeeded", charge.charge_id)
        assert psp.parse_webhook(payload, headers).type is PspEventType.CHARGE_SUCCEEDED
        signature = headers.get("Stripe-Signature") or headers["stripe-signature"]

        tampered = payload.replace(b'"succeeded"', b'"failed"', 1)
        assert tampered != payload
        cases = {
            "tampered body": (tampered, {"Stripe-Signature": signature}),
            "no signature": (payload, {}),
            "another secret": (payload, sign_stripe_webhook(payload, "whsec_someone_else")),
            "too old": (payload, sign_stripe_webhook(payload, _secret(harness), int(time.time()) - 301)),
            "garbage header": (payload, {"Stripe-Signature": "t=abc,v1=def"}),
        }
        for case, (body, hdrs) in cases.items():
            with pytest.raises(WebhookSignatureInvalid):
                psp.parse_webhook(body, hdrs)
                pytest.fail(f"{case} was accepted")
        # the signature is checked over the raw bytes, whatever the header name's case
        assert psp.parse_webhook(payload, {"stripe-signature": signature}).id


def _secret(harness: Harness) -> str:
    return TEST_WEBHOOK_SECRET if harness.recorded is not None else SANDBOX_WEBHOOK_SECRET
