"""The merchant API end to end against the real processes: the seeded demo merchants create
checkout sessions, a shopper applies with the session's token and confirms, and the merchant
captures, voids and refunds over SigV4 with its registry keys. Wrong keys, other merchants'
sessions, amounts beyond what is authorized or captured, a capture racing a void, and an
authorization left uncaptured past its time (the credit service's clock moved through its
test-only ``CLOCK_OFFSET_FILE``) are all covered.

The shopper's calls go to the credit service the way the gateway makes them (service-signed,
with the shopper's token): ``shopper_apply`` is the one place to switch to GraphQL's
``applyForCredit(input: {checkoutToken, planType})`` once the gateway takes it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from bnpl_common.service_auth import USER_TOKEN_HEADER
from bnpl_common.settings import LOCAL_SIGV4_ACCESS_KEY_ID, LOCAL_SIGV4_SECRET
from bnpl_common.sigv4 import SigV4Auth
from bnpl_common.testing import free_port
from bnpl_credit.testing import MerchantClient, checkout_body, make_profile, sign_profile
from botocore.credentials import Credentials

from scripts.devstack import Ports, Stack
from tests.conftest import Shopper

pytestmark = pytest.mark.e2e

DAY = 86_400
GATEWAY_SIGNER = SigV4Auth(Credentials(LOCAL_SIGV4_ACCESS_KEY_ID, LOCAL_SIGV4_SECRET), region="us-east-1")


@pytest.fixture(scope="module")
def clock_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("merchant-clock") / "offset-seconds"
    path.write_text("0")
    return path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, clock_file: Path) -> Iterator[Stack]:
    """This module's own stack (its clock moves); the demo merchants are seeded by ``Stack.start``."""
    data_dir = tmp_path_factory.mktemp("merchants-stack")
    ports = Ports(gateway=free_port(), user=free_port(), credit=free_port(), model=free_port(), cognito=free_port())
    env = {"SCORER_TIMEOUT_SECONDS": "1.5", "CLOCK_OFFSET_FILE": str(clock_file), "SWEEP_INTERVAL_SECONDS": "0.3"}
    stack = Stack(data_dir=data_dir, ports=ports, extra_env=env)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def travel(clock_file: Path) -> Iterator[Any]:
    def to(days: float) -> None:
        clock_file.write_text(str(int(days * DAY)))

    yield to
    clock_file.write_text("0")


@pytest.fixture(scope="module")
def merchants(stack: Stack) -> dict[str, MerchantClient]:
    creds = stack.merchants()
    assert set(creds) >= {"demo-shop", "demo-books"}
    return {name: MerchantClient(stack.url("credit"), c) for name, c in creds.items()}


def origin_of(stack: Stack, merchant: str) -> str:
    origins = stack.merchants()[merchant]["origins"]
    assert isinstance(origins, list)
    return str(origins[0])


def credit_as_shopper(stack: Stack, shopper: Shopper, method: str, path: str, **kw: Any) -> httpx.Response:
    headers = {USER_TOKEN_HEADER: shopper.token, **kw.pop("headers", {})}
    return httpx.request(method, f"{stack.url('credit')}{path}", headers=headers, auth=GATEWAY_SIGNER, timeout=30, **kw)


def accepted_document(stack: Stack, shopper: Shopper, application_id: str) -> dict[str, str]:
    """confirm's body: the approval's pre-contract document read and accepted (every market requires it)."""
    document = credit_as_shopper(stack, shopper, "GET", f"/v1/applications/{application_id}/pre-contract")
    assert document.status_code == 200, document.text
    return {"acceptedDocumentHash": document.json()["contentHash"]}


def shopper_apply(stack: Stack, shopper: Shopper, token: str, plan_type: str = "PAY_IN_4") -> httpx.Response:
    profile = make_profile(shopper.sub)
    body = {
        "checkoutToken": token,
        "planType": plan_type,
        "profile": profile,
        "profileSignature": sign_profile(profile),
    }
    return credit_as_shopper(
        stack, shopper, "POST", "/v1/applications", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}
    )


def authorized_session(stack: Stack, shop: MerchantClient, shopper: Shopper, amount: int = 20_000) -> dict[str, Any]:
    created = shop.create_checkout(checkout_body(amount, origin=origin_of(stack, "demo-shop")))
    assert created.status_code == 201, created.text
    session: dict[str, Any] = created.json()
    applied = shopper_apply(stack, shopper, session["checkoutToken"])
    assert applied.status_code == 201 and applied.json()["status"] == "APPROVED", applied.text
    confirmed = credit_as_shopper(
        stack,
        shopper,
        "POST",
        f"/v1/applications/{applied.json()['id']}/confirm",
        headers={"Idempotency-Key": uuid.uuid4().hex},
        json=accepted_document(stack, shopper, applied.json()["id"]),
    )
    assert confirmed.status_code == 201 and confirmed.json()["status"] == "AUTHORIZED", confirmed.text
    return session


def test_wrong_key_is_403_and_another_merchants_session_404(
    stack: Stack, merchants: dict[str, MerchantClient], new_shopper
) -> None:
    shop, books = merchants["demo-shop"], merchants["demo-books"]
    creds = stack.merchants()["demo-shop"]
    forged = MerchantClient(stack.url("credit"), {**creds, "secretAccessKey": "wrong-secret"})
    assert forged.create_checkout(checkout_body(origin=origin_of(stack, "demo-shop"))).status_code == 403
    session = authorized_session(stack, shop, new_shopper())
    assert books.checkout(session["id"]).status_code == 404
    assert books.capture(session["id"], 1_000, "EUR").status_code == 404
    assert books.void(session["id"]).status_code == 404
    # demo-books sells in GBP: a EUR session is refused, naming the field
    refused = books.create_checkout(checkout_body(origin=origin_of(stack, "demo-books")))
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "amount.currency"


def test_authorize_capture_refund_and_the_limits(
    stack: Stack, merchants: dict[str, MerchantClient], new_shopper
) -> None:
    shop = merchants["demo-shop"]
    shopper = new_shopper()
    session = authorized_session(stack, shop, shopper, amount=30_000)
    cid = session["id"]
    view = shop.checkout(cid).json()
    assert view["status"] == "AUTHORIZED" and view["authorizedAmount"]["amount"] == 30_000
    page = credit_as_shopper(stack, shopper, "GET", f"/v1/checkout-sessions/{session['checkoutToken']}").json()
    assert page["merchantName"] == "Demo Shop" and page["merchantRedirectUrl"].startswith(origin_of(stack, "demo-shop"))
    too_much = shop.capture(cid, 30_001, "EUR")
    assert too_much.status_code == 422 and too_much.json()["error"]["field"] == "amount.amount"
    key = uuid.uuid4().hex
    first = shop.capture(cid, 10_000, "EUR", key=key)
    assert first.status_code == 201 and first.json()["status"] == "PARTIALLY_CAPTURED"
    assert shop.capture(cid, 10_000, "EUR", key=key).json() == first.json()  # idempotent
    assert shop.refund(cid, 10_001, "EUR").status_code == 422  # only captured money
    assert shop.refund(cid, 4_000, "EUR").json()["status"] == "PARTIALLY_REFUNDED"
    voided = shop.void(cid)
    assert voided.status_code == 200 and voided.json()["voidedAmount"]["amount"] == 20_000
    assert shop.capture(cid, 1_000, "EUR").status_code == 409  # capture after void
    plan = credit_as_shopper(stack, shopper, "GET", f"/v1/plans/{view['planId']}").json()
    # the shopper owes 10 000 captured - 4 000 refunded; the first quarter (7 500) taken at the first
    # capture covers it, so the plan is paid off
    assert plan["totalDue"]["amount"] == 6_000 and plan["status"] == "COMPLETED"
    listed = shop.get("/v1/merchant/checkouts", limit=100).json()["items"]
    assert cid in {c["id"] for c in listed}


def test_capture_and_void_racing_apply_exactly_one(
    stack: Stack, merchants: dict[str, MerchantClient], new_shopper
) -> None:
    shop = merchants["demo-shop"]
    creds = stack.merchants()["demo-shop"]
    for _ in range(3):
        session = authorized_session(stack, shop, new_shopper())
        capturer, voider = MerchantClient(stack.url("credit"), creds), MerchantClient(stack.url("credit"), creds)
        with ThreadPoolExecutor(2) as pool:
            capture = pool.submit(capturer.capture, session["id"], 20_000, "EUR")
            void = pool.submit(voider.void, session["id"])
            codes = sorted([capture.result().status_code, void.result().status_code])
        assert codes in ([200, 409], [201, 409]), codes
        final = shop.checkout(session["id"]).json()
        assert final["capturedAmount"]["amount"] + final["voidedAmount"]["amount"] == 20_000
        assert final["status"] in ("CAPTURED", "VOIDED")


def test_an_uncaptured_authorization_expires_and_frees_the_credit(
    stack: Stack, merchants: dict[str, MerchantClient], new_shopper, travel
) -> None:
    import time

    shop = merchants["demo-shop"]
    shopper = new_shopper()
    session = authorized_session(stack, shop, shopper)
    line = credit_as_shopper(stack, shopper, "GET", "/v1/credit-line").json()
    assert line["exposure"]["amount"] == 15_000  # the first of four parts was charged at confirmation
    travel(29)
    deadline = time.monotonic() + 15
    while shop.checkout(session["id"]).json()["status"] != "EXPIRED" and time.monotonic() < deadline:
        time.sleep(0.3)
    expired = shop.checkout(session["id"]).json()
    assert expired["status"] == "EXPIRED" and expired["voidedAmount"]["amount"] == 20_000
    assert credit_as_shopper(stack, shopper, "GET", "/v1/credit-line").json()["exposure"]["amount"] == 0
    assert shop.capture(session["id"], 1_000, "EUR").status_code == 409
