"""The GraphQL documents and profiles of the shopper journey, shared by the e2e tests, and
``order(...)``: the input of ``applyForCredit`` for an order that a merchant's server first put
in a checkout session through the merchant API (as a shop does), so every e2e application goes
through a merchant-created session."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
from bnpl_credit.testing import MerchantClient

CREATE_PROFILE = """
mutation Create($input: ProfileInput!) {
  createProfile(input: $input) { id email givenName phoneNumber phoneVerified housing employment
    monthlyIncome { amount currency } }
}"""

ME = """
query { me { id email givenName familyName dateOfBirth phoneNumber phoneVerified
  address { line1 city postalCode country } monthlyIncome { amount currency }
  creditLimit { amount currency } availableCredit { amount currency } } }"""

START_CARD_SETUP = """
mutation StartCard($returnUrl: String!) {
  startPaymentMethodSetup(returnUrl: $returnUrl) { setupId pageUrl clientSecret } }"""
COMPLETE_CARD_SETUP = """
mutation CompleteCard($id: ID!) { completePaymentMethodSetup(setupId: $id) { type brand last4 expMonth expYear } }"""
PAYMENT_METHOD = "query { paymentMethod { type brand last4 expMonth expYear } }"

# Stripe's test cards, as the sandbox PSP knows them
CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000002"  # saved; every charge declined (generic_decline)
CARD_NO_FUNDS = "4000000000009995"  # saved; every charge declined (insufficient_funds)


class GraphQLShopper(Protocol):
    gateway: str

    def ok(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]: ...


def add_card(shopper: GraphQLShopper, number: str = CARD_OK) -> dict[str, Any]:
    """Save a sandbox test card as the checkout page does: start the setup over GraphQL, type the
    card into the sandbox PSP's page (its own origin: this posts what the page's script posts),
    then complete the setup over GraphQL. The method on file, as ``completePaymentMethodSetup``."""
    setup = shopper.ok(START_CARD_SETUP, {"returnUrl": f"{shopper.gateway}/checkout/"})["startPaymentMethodSetup"]
    page = urlsplit(setup["pageUrl"])
    card = {"number": number, "exp_month": "12", "exp_year": "2034", "cvc": "123"}
    entered = httpx.post(
        f"{page.scheme}://{page.netloc}/setup/{setup['setupId']}/confirm",
        json={"client_secret": setup["clientSecret"], "type": "card", "card": card},
        timeout=10,
    )
    assert entered.status_code == 200 and entered.json()["status"] == "succeeded", entered.text
    method: dict[str, Any] = shopper.ok(COMPLETE_CARD_SETUP, {"id": setup["setupId"]})["completePaymentMethodSetup"]
    return method


START_VERIFICATION = "mutation { startPhoneVerification { destination expiresAt attemptsRemaining } }"

CONFIRM_VERIFICATION = """
mutation Confirm($code: String!) { confirmPhoneVerification(code: $code) { id phoneVerified } }"""

APPLICATION_FIELDS = """
  id status amount { amount currency } merchantId orderReference planType checkoutId createdAt expiresAt
  score riskGrade reasons { code description } modelVersion policyVersion
  offer { planType apr financeCharge { amount currency } totalOfPayments { amount currency }
          installments { sequence dueDate amount { amount currency } } }
"""

APPLY = (
    """
mutation Apply($input: CreditApplicationInput!, $key: String!) {
  applyForCredit(input: $input, idempotencyKey: $key) {"""
    + APPLICATION_FIELDS
    + "} }"
)

APPLICATION = "query One($id: ID!) { application(id: $id) {" + APPLICATION_FIELDS + "} }"

ACCEPT = "query Accept($id: ID!) { precontractInformation(applicationId: $id) { contentHash } }"


def accepted(shopper: Any, application_id: str, key: str | None = None) -> dict[str, Any]:
    """confirmPlan's variables as the checkout page sends them: the pre-contract document read
    and accepted (``$hash``: every market requires it), an idempotency key."""
    document = shopper.ok(ACCEPT, {"id": application_id})["precontractInformation"]
    return {"id": application_id, "key": key or uuid.uuid4().hex, "hash": document["contentHash"]}


APPLICATIONS = """
query List($limit: Int, $next: String) {
  applications(limit: $limit, nextToken: $next) { items { id status orderReference } nextToken } }"""


def phone() -> str:
    return "+4477009" + f"{random.randint(0, 99999):05d}"


def good_profile(**overrides: Any) -> dict[str, Any]:
    profile = {
        "givenName": "Alba",
        "familyName": "Good",
        "dateOfBirth": "1979-04-12",
        "phoneNumber": phone(),
        "address": {"line1": "1 Calle Mayor", "city": "Madrid", "postalCode": "28013", "country": "ES"},
        "monthlyIncome": {"amount": 450_000, "currency": "EUR"},
        "monthlyExpenses": {"amount": 120_000, "currency": "EUR"},
        "housing": "OWNER",
        "employment": "FIXED",
        "employmentYears": 12,
        "assets": {"amount": 3_000_000, "currency": "EUR"},
        "debt": {"amount": 0, "currency": "EUR"},
    }
    profile.update(overrides)
    return profile


def poor_profile(**overrides: Any) -> dict[str, Any]:
    profile = good_profile(
        givenName="Pau",
        familyName="Poor",
        dateOfBirth="2005-02-01",
        monthlyIncome={"amount": 70_000, "currency": "EUR"},
        monthlyExpenses={"amount": 60_000, "currency": "EUR"},
        housing="RENT",
        employment="PART_TIME",
        employmentYears=0,
        assets={"amount": 0, "currency": "EUR"},
        debt={"amount": 400_000, "currency": "EUR"},
    )
    profile.update(overrides)
    return profile


# The seeded demo merchants (`make run`, the test stacks), by the currency of their market.
MERCHANT_BY_CURRENCY = {"EUR": "demo-shop", "GBP": "demo-books"}


class Merchants:
    """The seeded merchants of one running stack, acting through the merchant API."""

    def __init__(self, credit_url: str, credentials_file: Path) -> None:
        self.credit_url = credit_url
        self.credentials_file = credentials_file
        self.credentials = json.loads(credentials_file.read_text())
        self._clients: dict[str, MerchantClient] = {}

    def client(self, merchant_id: str) -> MerchantClient:
        if merchant_id not in self._clients:
            self._clients[merchant_id] = MerchantClient(self.credit_url, self.credentials[merchant_id])
        return self._clients[merchant_id]

    def retarget(self, credit_url: str) -> None:
        """The merchant API moved (a container started again with another address)."""
        if credit_url != self.credit_url:
            self.credit_url = credit_url
            self._clients.clear()

    def origin(self, merchant_id: str) -> str:
        return str(self.credentials[merchant_id]["origins"][0])


_ACTIVE: list[Merchants] = []
_SESSIONS: dict[str, dict[str, Any]] = {}


@contextmanager
def merchants_of(credit_url: str, data_dir: Path) -> Iterator[Merchants]:
    """Make ``order(...)`` create its sessions at this stack's merchant API while the block runs."""
    merchants = Merchants(credit_url, data_dir / "local-merchants.json")
    _ACTIVE.append(merchants)
    try:
        yield merchants
    finally:
        _ACTIVE.remove(merchants)


def merchants() -> Merchants:
    assert _ACTIVE, "no stack with merchants is running (tests/conftest.py's stack fixture enters merchants_of)"
    return _ACTIVE[-1]


def checkout(
    amount: int = 20_000,
    currency: str = "EUR",
    *,
    merchant: str | None = None,
    reference: str | None = None,
    **body: Any,
) -> dict[str, Any]:
    """A checkout session created by the merchant's server: the merchant's view (201), checked."""
    merchant_id = merchant or MERCHANT_BY_CURRENCY.get(currency, "demo-shop")
    origin = merchants().origin(merchant_id)
    request = {
        "orderReference": reference or f"ORD-{uuid.uuid4().hex[:8]}",
        "amount": {"amount": amount, "currency": currency},
        "items": [{"name": "Espresso machine", "quantity": 1, "unitPrice": {"amount": amount, "currency": currency}}],
        "returnUrl": f"{origin}/return",
        "cancelUrl": f"{origin}/cancel",
        **body,
    }
    response = merchants().client(merchant_id).create_checkout(request)
    assert response.status_code == 201, response.text
    session: dict[str, Any] = response.json()
    _SESSIONS[session["checkoutToken"]] = session
    return session


def order(amount: int = 20_000, currency: str = "EUR", plan: str = "PAY_IN_4", **session: Any) -> dict[str, Any]:
    """The ``CreditApplicationInput`` for a fresh order of ``amount``: a merchant's checkout session
    (see :func:`checkout`) and the plan the shopper picks. :func:`session_of` gives the session."""
    return {"checkoutToken": checkout(amount, currency, **session)["checkoutToken"], "planType": plan}


def session_of(the_order: dict[str, Any]) -> dict[str, Any]:
    """The merchant's view of the session behind an ``order(...)`` input, as it was created."""
    return _SESSIONS[the_order["checkoutToken"]]


def ship(checkout_id: str, amount: int | None = None, *, merchant: str = "demo-shop") -> dict[str, Any]:
    """The merchant captures ``amount`` of an authorized checkout (all that is left by default):
    a checkout's plan starts (its dates run) at the first capture. Returns the merchant's view."""
    client = merchants().client(merchant)
    view = client.checkout(checkout_id).json()
    left = view["authorizedAmount"]["amount"] - view["capturedAmount"]["amount"] - view["voidedAmount"]["amount"]
    response = client.capture(checkout_id, left if amount is None else amount, view["amount"]["currency"])
    assert response.status_code in (200, 201), response.text
    captured: dict[str, Any] = response.json()
    return captured
