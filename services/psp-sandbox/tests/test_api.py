"""Stripe's API subset, over HTTP on the real process: shapes, errors and idempotency as Stripe's."""

from __future__ import annotations

import json

import httpx


def test_every_api_call_needs_the_secret_key(sandbox) -> None:
    for response in (
        httpx.post(f"{sandbox.url}/v1/customers", timeout=5),
        httpx.get(f"{sandbox.url}/v1/customers/cus_x", headers={"Authorization": "Bearer sk_test_wrong"}, timeout=5),
    ):
        assert response.status_code == 401
        assert response.json()["error"]["type"] == "invalid_request_error"


def test_objects_are_stripe_shaped_and_unknown_ids_are_resource_missing(sandbox) -> None:
    customer = sandbox.post("/v1/customers", {"metadata[bnpl_customer_id]": "c-1"}).json()
    assert customer["object"] == "customer" and customer["id"].startswith("cus_")
    assert customer["metadata"] == {"bnpl_customer_id": "c-1"} and customer["livemode"] is False
    assert sandbox.get(f"/v1/customers/{customer['id']}").json() == customer

    missing = sandbox.get("/v1/payment_intents/pi_nothing")
    assert missing.status_code == 404
    assert missing.json()["error"] | {"message": ""} == {
        "type": "invalid_request_error",
        "code": "resource_missing",
        "param": "id",
        "message": "",
    }
    unknown_route = sandbox.get("/v1/charges")
    assert unknown_route.status_code == 404 and "Unrecognized request URL" in unknown_route.json()["error"]["message"]


def test_an_idempotency_key_replays_the_first_answer_and_refuses_other_parameters(sandbox) -> None:
    first = sandbox.post("/v1/customers", {"metadata[a]": "1", "metadata[b]": "2"}, key="customer-idem-0001")
    # the same parameters in another order are the same request
    again = sandbox.post("/v1/customers", {"metadata[b]": "2", "metadata[a]": "1"}, key="customer-idem-0001")
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    other = sandbox.post("/v1/customers", {"metadata[a]": "9"}, key="customer-idem-0001")
    assert other.status_code == 400 and other.json()["error"]["type"] == "idempotency_error"
    other_path = sandbox.post("/v1/setup_intents", {}, key="customer-idem-0001")
    assert other_path.status_code == 400 and other_path.json()["error"]["type"] == "idempotency_error"


def test_a_declined_charge_is_replayed_too_and_never_charged_twice(sandbox) -> None:
    customer, pm = sandbox.customer_with_card("4000000000000002")
    params = {"amount": "1000", "currency": "eur", "customer": customer, "payment_method": pm, "confirm": "true"}
    params["off_session"] = "true"
    first = sandbox.post("/v1/payment_intents", params, key="installment-decl-0001")
    assert first.status_code == 402
    error = first.json()["error"]
    assert (error["type"], error["code"], error["decline_code"]) == ("card_error", "card_declined", "generic_decline")
    assert error["payment_intent"]["status"] == "requires_payment_method"
    again = sandbox.post("/v1/payment_intents", params, key="installment-decl-0001")
    assert again.status_code == 402 and again.json() == first.json()


def test_payment_intents_check_amount_currency_and_the_customers_method(sandbox) -> None:
    customer, pm = sandbox.customer_with_card()
    other_customer, _ = sandbox.customer_with_card()
    base = {"currency": "eur", "customer": customer, "payment_method": pm, "confirm": "true", "off_session": "true"}
    cases = {
        "amount": ({**base, "amount": "49"}, "amount_too_small"),
        "currency": ({**base, "amount": "1000", "currency": "xxx"}, None),
        "payment_method": ({**base, "amount": "1000", "customer": other_customer}, None),
    }
    for param, (params, code) in cases.items():
        response = sandbox.post("/v1/payment_intents", params)
        assert response.status_code == 400, param
        assert response.json()["error"]["param"] == param
        if code:
            assert response.json()["error"]["code"] == code
    unconfirmed = sandbox.post("/v1/payment_intents", {**base, "amount": "1000", "confirm": "false"}).json()
    assert unconfirmed["status"] == "requires_confirmation"


def test_refunds_need_a_succeeded_payment_and_cannot_exceed_it(sandbox) -> None:
    customer, pm = sandbox.customer_with_card()
    params = {"amount": "5000", "currency": "eur", "customer": customer, "payment_method": pm}
    paid = sandbox.post("/v1/payment_intents", {**params, "confirm": "true", "off_session": "true"}).json()
    unpaid = sandbox.post("/v1/payment_intents", params).json()
    refused = sandbox.post("/v1/refunds", {"payment_intent": unpaid["id"]})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "charge_not_refundable"

    part = sandbox.post("/v1/refunds", {"payment_intent": paid["id"], "amount": "2000"}).json()
    assert (part["status"], part["amount"], part["payment_intent"]) == ("succeeded", 2000, paid["id"])
    assert part["destination_details"]["type"] == "card"  # back to the card that paid
    too_much = sandbox.post("/v1/refunds", {"charge": paid["latest_charge"], "amount": "3001"})
    assert too_much.status_code == 400 and too_much.json()["error"]["param"] == "amount"
    rest = sandbox.post("/v1/refunds", {"charge": paid["latest_charge"]}).json()
    assert rest["amount"] == 3000
    done = sandbox.post("/v1/refunds", {"payment_intent": paid["id"]})
    assert done.json()["error"]["code"] == "charge_already_refunded"


def test_a_failing_sepa_debit_is_processing_then_fails_by_webhook(sandbox) -> None:
    customer = sandbox.post("/v1/customers").json()["id"]
    intent = sandbox.post(
        "/v1/setup_intents", {"customer": customer, "allowed_payment_method_types[0]": "sepa_debit"}
    ).json()
    method = {"type": "sepa_debit", "sepa_debit": {"iban": "DE62 3704 0044 0532 0130 01"}}
    method["billing_details"] = {"name": "Ana Ruiz", "email": "ana@example.com"}
    assert sandbox.page(intent, "confirm", method).json()["status"] == "succeeded"
    saved = sandbox.get(f"/v1/setup_intents/{intent['id']}").json()
    assert saved["mandate"].startswith("mandate_")
    pm = sandbox.get(f"/v1/payment_methods/{saved['payment_method']}").json()
    assert pm["sepa_debit"]["last4"] == "3001" and "iban" not in pm["sepa_debit"]

    params = {"amount": "2500", "currency": "eur", "customer": customer, "payment_method": pm["id"]}
    charge = sandbox.post("/v1/payment_intents", {**params, "confirm": "true", "off_session": "true"}).json()
    assert charge["status"] == "processing"
    body, _ = sandbox.receiver.wait_for("payment_intent.payment_failed", charge["id"])
    failed = json.loads(body)["data"]["object"]
    assert failed["status"] == "requires_payment_method" and failed["last_payment_error"]["decline_code"]
    assert sandbox.get(f"/v1/payment_intents/{charge['id']}").json() == failed
    listed = sandbox.get("/v1/events?type=payment_intent.payment_failed&limit=100").json()["data"]
    assert json.loads(body)["id"] in [event["id"] for event in listed]


def test_concurrent_retries_of_one_charge_make_one_payment(sandbox) -> None:
    from concurrent.futures import ThreadPoolExecutor

    customer, pm = sandbox.customer_with_card()
    params = {"amount": "1500", "currency": "eur", "customer": customer, "payment_method": pm}
    params |= {"confirm": "true", "off_session": "true"}
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(
            pool.map(lambda _: sandbox.post("/v1/payment_intents", params, key="installment-race-01"), range(6))
        )
    assert {a.status_code for a in answers} == {200}
    assert len({a.json()["id"] for a in answers}) == 1
    created = sandbox.get("/v1/events?type=payment_intent.created&limit=100").json()["data"]
    assert [e["request"]["idempotency_key"] for e in created].count("installment-race-01") == 1
