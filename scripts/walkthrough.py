"""Walk the shopper journey against a running `make run`, printing each GraphQL call.

    .venv/bin/python scripts/walkthrough.py            # a good and a poor profile
    .venv/bin/python scripts/walkthrough.py --profile poor

Signs a new shopper up in the local Cognito, creates the profile, verifies the phone with
the code from the local SMS outbox; then, as the demo shop's server, creates a checkout session
through the merchant API (keys from .data/local-merchants.json); applies for credit on it with
pay in 4 and prints the decision.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from bnpl_user.testing import last_code

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bnpl_credit.testing import MerchantClient  # noqa: E402

from scripts.local_user import access_token, load_cognito  # noqa: E402
from tests.journey import good_profile, poor_profile  # noqa: E402

DATA = ROOT / ".data"
OUTBOX = DATA / "sms-outbox.jsonl"

PROFILES: dict[str, Callable[..., dict[str, Any]]] = {"good": good_profile, "poor": poor_profile}
ORDER_AMOUNT = {"good": 20_000, "poor": 90_000}


def gql(gateway: str, token: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    print(f"\n>>> {' '.join(query.split())[:110]}")
    response = httpx.post(
        f"{gateway}/graphql", json={"query": query, "variables": variables or {}}, headers={"Authorization": token}
    )
    body = response.json()
    print(json.dumps(body, indent=2)[:2500])
    if body.get("errors"):
        sys.exit("the call failed")
    return body["data"]


def newest_code(phone: str) -> str:
    """The newest code texted to ``phone``, from the local SMS outbox (waits up to 5 s for it)."""
    for _ in range(50):
        try:
            return last_code(OUTBOX, to=phone)
        except LookupError:
            time.sleep(0.1)
    sys.exit(f"no SMS to {phone} in {OUTBOX}")


def merchant_session(credit: str, amount: int) -> str:
    """What a shop's server does when a shopper picks pay later: a checkout session; its token."""
    merchants = json.loads((DATA / "local-merchants.json").read_text())
    shop = merchants["demo-shop"]
    origin = shop["origins"][0]
    body = {
        "orderReference": f"ORDER-{uuid.uuid4().hex[:6]}",
        "amount": {"amount": amount, "currency": "EUR"},
        "items": [{"name": "Espresso machine", "quantity": 1, "unitPrice": {"amount": amount, "currency": "EUR"}}],
        "returnUrl": f"{origin}/return",
        "cancelUrl": f"{origin}/cancel",
    }
    print(f"\n>>> (as demo-shop's server) POST {credit}/v1/merchant/checkouts")
    response = MerchantClient(credit, shop).create_checkout(body)
    print(json.dumps(response.json(), indent=2)[:1500])
    if response.status_code != 201:
        sys.exit("the merchant API refused the session")
    return str(response.json()["checkoutToken"])


def journey(kind: str, gateway: str, credit: str) -> None:
    email, password = f"{kind}-{uuid.uuid4().hex[:6]}@example.com", "Passw0rd!"
    print(f"\n=== {kind} profile: signing up {email} in the local Cognito")
    token = access_token(load_cognito(DATA / "local-cognito.json"), email, password)

    profile = PROFILES[kind](email=email)
    phone = profile["phoneNumber"]
    gql(
        gateway,
        token,
        "mutation($input: ProfileInput!) { createProfile(input: $input) { id phoneVerified } }",
        {"input": profile},
    )
    gql(gateway, token, "mutation { startPhoneVerification { destination expiresAt attemptsRemaining } }")
    code = newest_code(phone)
    print(f"\n(code read from {OUTBOX}: {code})")
    gql(
        gateway,
        token,
        "mutation($code: String!) { confirmPhoneVerification(code: $code) { phoneVerified } }",
        {"code": code},
    )
    gql(
        gateway,
        token,
        """mutation($input: CreditApplicationInput!, $key: String!) {
             applyForCredit(input: $input, idempotencyKey: $key) {
               id status score riskGrade reasons { code description }
               offer { apr totalOfPayments { amount currency } installments { dueDate amount { amount currency } } }
             } }""",
        {
            "input": {"checkoutToken": merchant_session(credit, ORDER_AMOUNT[kind]), "planType": "PAY_IN_4"},
            "key": uuid.uuid4().hex,
        },
    )
    gql(gateway, token, "{ me { givenName creditLimit { amount currency } availableCredit { amount currency } } }")


def main() -> None:
    parser = argparse.ArgumentParser(description="walk the shopper journey against `make run`")
    parser.add_argument("--profile", choices=["good", "poor", "both"], default="both")
    parser.add_argument("--gateway", default="http://127.0.0.1:8000")
    parser.add_argument("--merchant-api", default="http://127.0.0.1:8002", help="the credit service")
    args = parser.parse_args()
    for kind in ("good", "poor") if args.profile == "both" else (args.profile,):
        journey(kind, args.gateway, args.merchant_api)


if __name__ == "__main__":
    main()
