"""The credit service's payment-method routes, the PSP's webhooks (signed with Stripe's library) and
a confirmation that charges, in process, with a PSP double at the port that answers as the sandbox
does (the real sandbox and Stripe's recorded responses are exercised by the contract suite and the
end-to-end tests)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any

import pytest
from bnpl_common.clock import FixedClock
from bnpl_common.money import Money
from bnpl_common.testing import TokenMinter
from bnpl_credit.collections.settings import CollectionSettings
from bnpl_credit.disclosures.settings import DocumentSettings
from bnpl_credit.main import create_app
from bnpl_credit.psp import (
    ChargeResult,
    ChargeStatus,
    PaymentMethod,
    PaymentMethodStatus,
    PaymentMethodType,
    PspCustomer,
    PspEvent,
    SetupSession,
    SetupState,
    SetupStatus,
    StripePsp,
)
from bnpl_credit.psp.testing import TEST_API_KEY, TEST_WEBHOOK_SECRET, sign_stripe_webhook
from bnpl_credit.settings import Settings
from bnpl_credit.testing import Api, FakeScorer, new_key
from fastapi.testclient import TestClient

CHECKOUT_PAGE = "http://127.0.0.1:8000/checkout/"
VERIFIER = StripePsp(api_key=TEST_API_KEY, webhook_secret=TEST_WEBHOOK_SECRET)  # only its parse_webhook is used
ROUTE = "/v1/psp/webhooks"


class SandboxDouble:
    """Customers, setups the test completes by hand, and charges: one answer per key."""

    def __init__(self) -> None:
        self.setups: dict[str, SetupState] = {}
        self.methods: dict[str, PaymentMethod] = {}
        self.charges: dict[str, ChargeResult] = {}
        self.declining: set[str] = set()

    async def create_customer(self, *, reference: str, idempotency_key: str) -> PspCustomer:
        return PspCustomer(f"cus_{reference[:8]}")

    async def start_setup(
        self, *, customer_id: str, method: PaymentMethodType, return_url: str, idempotency_key: str
    ) -> SetupSession:
        setup_id = f"seti_{len(self.setups) + 1}"
        self.setups[setup_id] = SetupState(setup_id, customer_id, SetupStatus.PENDING, None)
        return SetupSession(setup_id, f"{setup_id}_secret", method, f"http://127.0.0.1:8090/setup/{setup_id}")

    def enter_card(self, setup_id: str, last4: str, kind: PaymentMethodType = PaymentMethodType.CARD) -> None:
        """What the shopper does on the PSP's page (a card, or a SEPA mandate's IBAN)."""
        state = self.setups[setup_id]
        card = kind is PaymentMethodType.CARD
        pm = PaymentMethod(
            f"pm_{last4}",
            state.customer_id,
            kind,
            "visa" if card else "sepa_debit",
            last4,
            12 if card else None,
            2034 if card else None,
            PaymentMethodStatus.ATTACHED,
        )
        self.methods[pm.id] = pm
        self.setups[setup_id] = SetupState(setup_id, state.customer_id, SetupStatus.SUCCEEDED, pm.id)

    async def get_setup(self, setup_id: str) -> SetupState:
        return self.setups[setup_id]

    async def get_payment_method(self, payment_method_id: str) -> PaymentMethod:
        return self.methods[payment_method_id]

    async def charge(
        self, *, customer_id: str, payment_method_id: str, amount: Money, idempotency_key: str, description: str
    ) -> ChargeResult:
        if idempotency_key not in self.charges:
            declined = self.methods[payment_method_id].last4 in self.declining
            self.charges[idempotency_key] = ChargeResult(
                f"pi_{len(self.charges) + 1}",
                ChargeStatus.FAILED if declined else ChargeStatus.SUCCEEDED,
                amount,
                "insufficient_funds" if declined else None,
            )
        return self.charges[idempotency_key]

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> PspEvent:
        """Verified as the Stripe adapter does (Stripe's library), with the test endpoint's secret."""
        return VERIFIER.parse_webhook(payload, headers)

    async def aclose(self) -> None:
        return None


@pytest.fixture
def psp() -> SandboxDouble:
    return SandboxDouble()


@pytest.fixture
def collecting(
    settings: Settings,
    minter: TokenMinter,
    clock: FixedClock,
    scorer: FakeScorer,
    document_settings: DocumentSettings,
    psp: SandboxDouble,
) -> Iterator[TestClient]:
    async def fetch() -> dict[str, Any]:
        return minter.jwks()

    app = create_app(
        settings,
        fetch_jwks=fetch,
        clock=clock,
        scorer=scorer,
        document_settings=document_settings,
        collection_settings=CollectionSettings(bnpl_env="test", payment_collection="psp"),
        psp=psp,  # type: ignore[arg-type]
        background=False,
    )
    with TestClient(app) as tc:
        yield tc


def save_card(api: Api, psp: SandboxDouble, last4: str = "4242") -> dict[str, Any]:
    started = api.request("POST", "/v1/payment-method/setups", json={"returnUrl": CHECKOUT_PAGE})
    assert started.status_code == 201, started.text
    setup_id = started.json()["setupId"]
    psp.enter_card(setup_id, last4)
    done = api.request("POST", f"/v1/payment-method/setups/{setup_id}/complete")
    assert done.status_code == 200, done.text
    body: dict[str, Any] = done.json()
    return body


def test_a_card_is_saved_shown_and_kept_to_its_customer(collecting: TestClient, minter: TokenMinter, psp) -> None:
    ana, bob = Api(collecting, minter), Api(collecting, minter)
    assert ana.request("GET", "/v1/payment-method").json() == {"paymentMethod": None}
    away = ana.request("POST", "/v1/payment-method/setups", json={"returnUrl": "https://evil.example/"})
    assert away.status_code == 422 and away.json()["error"]["field"] == "returnUrl"
    assert save_card(ana, psp) == {"type": "card", "brand": "visa", "last4": "4242", "expMonth": 12, "expYear": 2034}
    assert ana.request("GET", "/v1/payment-method").json()["paymentMethod"]["last4"] == "4242"
    started = ana.request("POST", "/v1/payment-method/setups", json={"returnUrl": CHECKOUT_PAGE}).json()
    stolen = bob.request("POST", f"/v1/payment-method/setups/{started['setupId']}/complete")
    assert stolen.status_code == 404 and stolen.json()["error"]["field"] == "setupId"
    unfinished = ana.request("POST", f"/v1/payment-method/setups/{started['setupId']}/complete")
    assert unfinished.status_code == 422 and unfinished.json()["error"]["type"] == "PaymentMethodSetupNotCompleted"
    assert bob.request("GET", "/v1/payment-method").json() == {"paymentMethod": None}


def test_no_plan_without_a_card(collecting: TestClient, minter: TokenMinter) -> None:
    api = Api(collecting, minter)
    app = api.approved()
    refused = api.confirm(app["id"])
    assert refused.status_code == 422 and refused.json()["error"]["type"] == "PaymentMethodRequired"
    assert refused.json()["error"]["field"] == "paymentMethod"
    assert api.request("GET", "/v1/plans").json() == {"items": []}
    assert api.request("GET", f"/v1/applications/{app['id']}").json()["status"] == "APPROVED"  # still held


def test_the_first_part_is_charged_once_at_confirmation(collecting: TestClient, minter: TokenMinter, psp) -> None:
    api = Api(collecting, minter)
    save_card(api, psp)
    app = api.approved()
    key = new_key()
    first = api.confirm(app["id"], key=key)
    again = api.confirm(app["id"], key=key)
    assert first.status_code == 201 and again.json() == first.json()
    plan = first.json()
    assert [i["status"] for i in plan["installments"]] == ["PAID", "DUE", "DUE", "DUE"]
    assert list(psp.charges) == [f"installment-{plan['id']}-1"]
    assert psp.charges[f"installment-{plan['id']}-1"].amount == Money(amount=5_000, currency="EUR")


def test_a_direct_debit_cannot_take_a_first_part_due_now(collecting: TestClient, minter: TokenMinter, psp) -> None:
    """A SEPA debit settles days later: a pay-in-4 plan, whose first part is charged at
    confirmation, needs a card; nothing is charged and the approval stays held."""
    api = Api(collecting, minter)
    started = api.request("POST", "/v1/payment-method/setups", json={"returnUrl": CHECKOUT_PAGE}).json()
    psp.enter_card(started["setupId"], "3000", PaymentMethodType.SEPA_DEBIT)
    saved = api.request("POST", f"/v1/payment-method/setups/{started['setupId']}/complete")
    assert saved.status_code == 200 and saved.json()["type"] == "sepa_debit", saved.text
    app = api.approved()
    refused = api.confirm(app["id"])
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["type"] == "PaymentMethodRequired" and error["field"] == "paymentMethod"
    assert error["info"]["methodType"] == "sepa_debit"
    assert psp.charges == {}
    assert api.request("GET", "/v1/plans").json() == {"items": []}
    assert api.request("GET", f"/v1/applications/{app['id']}").json()["status"] == "APPROVED"  # still held


def test_a_declined_first_charge_leaves_no_plan_and_releases_the_hold(
    collecting: TestClient, minter: TokenMinter, psp
) -> None:
    api = Api(collecting, minter)
    psp.declining.add("9995")
    save_card(api, psp, "9995")
    app = api.approved()
    before = api.request("GET", "/v1/credit-line").json()
    declined = api.confirm(app["id"])
    assert declined.status_code == 402, declined.text
    error = declined.json()["error"]
    assert error["type"] == "PaymentDeclined" and error["field"] == "paymentMethod"
    assert error["info"]["declineCode"] == "insufficient_funds"
    assert api.request("GET", "/v1/plans").json() == {"items": []}
    assert api.request("GET", f"/v1/applications/{app['id']}").json()["status"] == "CANCELLED"
    after = api.request("GET", "/v1/credit-line").json()
    assert after["exposure"]["amount"] == before["exposure"]["amount"] - 20_000  # the hold is released


def event(event_id: str, kind: str, obj: dict[str, Any]) -> bytes:
    body = {"id": event_id, "object": "event", "type": kind, "created": 1_796_000_000, "data": {"object": obj}}
    return json.dumps(body).encode()


def post(client: TestClient, payload: bytes, headers: dict[str, str] | None = None) -> Any:
    return client.post(
        ROUTE,
        content=payload,
        headers=sign_stripe_webhook(payload, TEST_WEBHOOK_SECRET) if headers is None else headers,
    )


def test_a_bad_or_missing_signature_is_refused_and_nothing_is_applied(
    collecting: TestClient, minter: TokenMinter, psp: SandboxDouble
) -> None:
    api = Api(collecting, minter)
    setup_id = api.request("POST", "/v1/payment-method/setups", json={"returnUrl": CHECKOUT_PAGE}).json()["setupId"]
    psp.enter_card(setup_id, "4242")
    payload = event("evt_setup", "setup_intent.succeeded", {"id": setup_id, "status": "succeeded"})
    forged = sign_stripe_webhook(payload, "whsec_not_the_endpoints_secret")
    for headers in (forged, {"Content-Type": "application/json"}):
        refused = post(collecting, payload, headers)
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"]["type"] == "InvalidWebhookSignature"
    assert api.request("GET", "/v1/payment-method").json() == {"paymentMethod": None}
    applied = post(collecting, payload)  # the same event, signed: not marked seen by the refusals
    assert applied.status_code == 200 and applied.json()["outcome"] == "APPLIED"


def test_a_setup_that_succeeded_after_3ds_is_kept_once(
    collecting: TestClient, minter: TokenMinter, psp: SandboxDouble
) -> None:
    ana, bob = Api(collecting, minter), Api(collecting, minter)
    setup_id = ana.request("POST", "/v1/payment-method/setups", json={"returnUrl": CHECKOUT_PAGE}).json()["setupId"]
    psp.enter_card(setup_id, "3155")  # authenticated on the bank's page; the shopper never came back
    payload = event("evt_3ds", "setup_intent.succeeded", {"id": setup_id, "status": "succeeded"})
    first = post(collecting, payload)
    assert first.status_code == 200 and first.json() == {"received": True, "eventId": "evt_3ds", "outcome": "APPLIED"}
    assert ana.request("GET", "/v1/payment-method").json()["paymentMethod"]["last4"] == "3155"
    assert bob.request("GET", "/v1/payment-method").json() == {"paymentMethod": None}
    replayed = post(collecting, payload)
    assert replayed.status_code == 200 and replayed.json()["outcome"] == "DUPLICATE"
    save_card(ana, psp, "4242")  # a newer card; the older setup's late event must not bring 3155 back
    late = post(collecting, event("evt_3ds_again", "setup_intent.succeeded", {"id": setup_id, "status": "succeeded"}))
    assert late.json()["outcome"] == "IGNORED"
    assert ana.request("GET", "/v1/payment-method").json()["paymentMethod"]["last4"] == "4242"


def test_a_charge_event_runs_the_collection_pass_once(
    collecting: TestClient, minter: TokenMinter, psp: SandboxDouble, clock: FixedClock
) -> None:
    api = Api(collecting, minter)
    save_card(api, psp)
    plan = api.confirm(api.approved()["id"]).json()
    clock.advance(timedelta(days=15))  # the second part is due; no scheduler runs in this app
    assert [i["status"] for i in api.request("GET", f"/v1/plans/{plan['id']}").json()["installments"]][1] != "PAID"
    payload = event(
        "evt_pi", "payment_intent.succeeded", {"id": "pi_x", "status": "succeeded", "amount": 5000, "currency": "eur"}
    )
    assert post(collecting, payload).json()["outcome"] == "APPLIED"
    statuses = [i["status"] for i in api.request("GET", f"/v1/plans/{plan['id']}").json()["installments"]]
    assert statuses[:2] == ["PAID", "PAID"]
    charges = list(psp.charges)
    assert post(collecting, payload).json()["outcome"] == "DUPLICATE"
    assert list(psp.charges) == charges
