"""Walk the shopper journey against a running `make run`, printing each GraphQL call.

    .venv/bin/python scripts/walkthrough.py            # a good and a poor profile
    .venv/bin/python scripts/walkthrough.py --profile poor

Signs a new shopper up in the local Cognito, creates the profile, verifies the phone with
the code from the local SMS outbox, applies for credit with pay in 4 and prints the decision.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
import httpx

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"

PROFILES: dict[str, dict[str, Any]] = {
    "good": {
        "givenName": "Alba",
        "familyName": "Garcia",
        "dateOfBirth": "1979-04-12",
        "address": {"line1": "1 Calle Mayor", "city": "Madrid", "postalCode": "28013", "country": "ES"},
        "monthlyIncome": {"amount": 450_000, "currency": "EUR"},
        "monthlyExpenses": {"amount": 120_000, "currency": "EUR"},
        "housing": "OWNER",
        "employment": "FIXED",
        "employmentYears": 12,
        "assets": {"amount": 3_000_000, "currency": "EUR"},
        "debt": {"amount": 0, "currency": "EUR"},
    },
    "poor": {
        "givenName": "Pau",
        "familyName": "Lopez",
        "dateOfBirth": "2005-02-01",
        "address": {"line1": "9 Carrer Nou", "city": "Valencia", "postalCode": "46001", "country": "ES"},
        "monthlyIncome": {"amount": 70_000, "currency": "EUR"},
        "monthlyExpenses": {"amount": 60_000, "currency": "EUR"},
        "housing": "RENT",
        "employment": "PART_TIME",
        "employmentYears": 0,
        "assets": {"amount": 0, "currency": "EUR"},
        "debt": {"amount": 400_000, "currency": "EUR"},
    },
}
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
    for _ in range(50):
        lines = (DATA / "sms-outbox.jsonl").read_text().splitlines() if (DATA / "sms-outbox.jsonl").exists() else []
        for line in reversed(lines):
            message = json.loads(line)
            if message["to"] == phone:
                return next(w for w in message["body"].replace(".", " ").split() if w.isdigit() and len(w) == 6)
        time.sleep(0.1)
    sys.exit("no SMS found in .data/sms-outbox.jsonl")


def journey(kind: str, gateway: str) -> None:
    cfg = json.loads((DATA / "local-cognito.json").read_text())
    idp = boto3.client(
        "cognito-idp",
        endpoint_url=cfg["endpoint"],
        region_name=cfg["region"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    email, password = f"{kind}-{uuid.uuid4().hex[:6]}@example.com", "Passw0rd!"
    print(f"\n=== {kind} profile: signing up {email} in the local Cognito")
    idp.sign_up(ClientId=cfg["clientId"], Username=email, Password=password)
    idp.admin_confirm_sign_up(UserPoolId=cfg["userPoolId"], Username=email)
    auth = idp.initiate_auth(
        ClientId=cfg["clientId"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    token = auth["AuthenticationResult"]["AccessToken"]

    phone = "+3460" + f"{random.randint(0, 9_999_999):07d}"
    profile = {**PROFILES[kind], "phoneNumber": phone, "email": email}
    gql(
        gateway,
        token,
        "mutation($input: ProfileInput!) { createProfile(input: $input) { id phoneVerified } }",
        {"input": profile},
    )
    gql(gateway, token, "mutation { startPhoneVerification { destination expiresAt attemptsRemaining } }")
    code = newest_code(phone)
    print(f"\n(code read from .data/sms-outbox.jsonl: {code})")
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
            "input": {
                "merchantId": "demo-shop",
                "orderReference": f"ORDER-{uuid.uuid4().hex[:6]}",
                "amount": {"amount": ORDER_AMOUNT[kind], "currency": "EUR"},
                "planType": "PAY_IN_4",
            },
            "key": uuid.uuid4().hex,
        },
    )
    gql(gateway, token, "{ me { givenName creditLimit { amount currency } availableCredit { amount currency } } }")


def main() -> None:
    parser = argparse.ArgumentParser(description="walk the shopper journey against `make run`")
    parser.add_argument("--profile", choices=["good", "poor", "both"], default="both")
    parser.add_argument("--gateway", default="http://127.0.0.1:8000")
    args = parser.parse_args()
    for kind in ("good", "poor") if args.profile == "both" else (args.profile,):
        journey(kind, args.gateway)


if __name__ == "__main__":
    main()
