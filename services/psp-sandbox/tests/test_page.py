"""The card-entry page: served with a strict CSP, authorised by the client secret, card checks,
3-D Secure test challenge, and a redirect only to allowed return URLs."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

CARD = {"number": "4242 4242 4242 4242", "exp_month": "12", "exp_year": "34", "cvc": "123"}


def new_intent(sandbox, types: str = "card") -> dict:
    customer = sandbox.post("/v1/customers").json()["id"]
    return sandbox.post("/v1/setup_intents", {"customer": customer, "allowed_payment_method_types[0]": types}).json()


def test_the_page_and_its_module_are_served_with_a_strict_csp(sandbox) -> None:
    intent = new_intent(sandbox)
    page = httpx.get(f"{sandbox.url}/setup/{intent['id']}", timeout=5)
    assert page.status_code == 200 and 'src="/static/setup.js"' in page.text
    csp = page.headers["content-security-policy"]
    for directive in ("default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"):
        assert directive in csp
    assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
    script = httpx.get(f"{sandbox.url}/static/setup.js", timeout=5)
    assert script.headers["content-type"].startswith("text/javascript") and "fetch(" in script.text
    assert httpx.get(f"{sandbox.url}/static/..%2Fmain.py", timeout=5).status_code == 404


def test_a_wrong_client_secret_reveals_nothing(sandbox) -> None:
    intent = new_intent(sandbox)
    response = sandbox.page({**intent, "client_secret": intent["client_secret"] + "x"}, "state", {})
    assert response.status_code == 404 and "status" not in response.text


def test_only_valid_test_cards_are_accepted_and_a_refusal_stores_nothing(sandbox) -> None:
    intent = new_intent(sandbox)
    cases = {
        "number": {**CARD, "number": "4242 4242 4242 4241"},  # check digit
        "expiry": {**CARD, "exp_year": "20"},
        "cvc": {**CARD, "cvc": "12"},
    }
    for field, card in cases.items():
        response = sandbox.page(intent, "confirm", {"type": "card", "card": card})
        assert response.status_code == 400 and response.json()["error"]["field"] == field
    real_looking = sandbox.page(intent, "confirm", {"type": "card", "card": {**CARD, "number": "4111111111111111"}})
    assert real_looking.status_code == 400 and "test card" in real_looking.json()["error"]["message"]
    wrong_type = sandbox.page(
        intent, "confirm", {"type": "sepa_debit", "sepa_debit": {"iban": "DE89370400440532013000"}}
    )
    assert wrong_type.status_code == 400
    assert sandbox.get(f"/v1/setup_intents/{intent['id']}").json()["status"] == "requires_payment_method"


def test_success_sends_the_shopper_back_with_the_outcome_but_not_the_secret(sandbox) -> None:
    intent = new_intent(sandbox)
    body = {"type": "card", "card": CARD, "return_url": "http://localhost:8000/checkout/?order=1"}
    view = sandbox.page(intent, "confirm", body).json()
    url = urlsplit(view["redirect_url"])
    assert (url.hostname, url.path) == ("localhost", "/checkout/")
    assert parse_qs(url.query) == {"order": ["1"], "setup_intent": [intent["id"]], "redirect_status": ["succeeded"]}
    again = sandbox.page(intent, "confirm", {"type": "card", "card": CARD})
    assert again.status_code == 400  # saved once


def test_no_redirect_to_a_host_that_is_not_allowed(sandbox) -> None:
    intent = new_intent(sandbox)
    view = sandbox.page(
        intent, "confirm", {"type": "card", "card": CARD, "return_url": "https://evil.example/x"}
    ).json()
    assert view["status"] == "succeeded" and view["redirect_url"] is None


def test_the_3ds_challenge_completes_or_fails_the_setup(sandbox) -> None:
    intent = new_intent(sandbox)
    card = {**CARD, "number": "4000002500003155"}
    assert sandbox.page(intent, "confirm", {"type": "card", "card": card}).json()["status"] == "requires_action"
    failed = sandbox.page(intent, "authenticate", {"outcome": "fail"}).json()
    assert failed["status"] == "requires_payment_method"
    assert failed["error"]["code"] == "setup_intent_authentication_failure"
    assert sandbox.page(intent, "authenticate", {"outcome": "complete"}).status_code == 400  # nothing to authenticate
    assert sandbox.page(intent, "confirm", {"type": "card", "card": card}).json()["status"] == "requires_action"
    assert sandbox.page(intent, "authenticate", {"outcome": "complete"}).json()["status"] == "succeeded"
