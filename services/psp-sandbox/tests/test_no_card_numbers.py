"""No card number or IBAN is ever written anywhere by the sandbox: not its logs, not its database."""

from __future__ import annotations

import time

NUMBERS = ["4242424242424242", "4000000000009995", "4000002500003155", "4111111111111111", "4242424242424241"]
IBAN = "DE89370400440532013000"


def test_card_numbers_and_ibans_never_reach_the_logs_or_the_database(sandbox) -> None:
    customer = sandbox.post("/v1/customers").json()["id"]
    for number in NUMBERS:  # saved, needing 3-D Secure, refused as not a test card, and a wrong check digit
        intent = sandbox.post("/v1/setup_intents", {"customer": customer}).json()
        card = {"number": number, "exp_month": "12", "exp_year": "34", "cvc": "123"}
        sandbox.page(intent, "confirm", {"type": "card", "card": card})
    intent = sandbox.post(
        "/v1/setup_intents", {"customer": customer, "allowed_payment_method_types[0]": "sepa_debit"}
    ).json()
    details = {"name": "Ana Ruiz", "email": "ana@example.com"}
    sandbox.page(intent, "confirm", {"type": "sepa_debit", "sepa_debit": {"iban": IBAN}, "billing_details": details})
    sandbox.page(intent, "confirm", {"type": "sepa_debit", "sepa_debit": {"iban": "DE00 bad"}, "billing_details": {}})
    # a malformed body, whose parser might be tempted to echo it
    sandbox.page(intent, "confirm", {"type": "card", "card": {"number": ["4242424242424242"]}})
    time.sleep(0.5)  # let the worker write what it writes

    written = b"".join(path.read_bytes() for path in sandbox.data_dir.rglob("*") if path.is_file())
    assert b"bnpl.access" in written  # the log is there and was searched
    for secret in [*NUMBERS, IBAN]:
        assert secret.encode() not in written, secret
        spaced = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
        assert spaced.encode() not in written
