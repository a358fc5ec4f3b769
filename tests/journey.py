"""The GraphQL documents and profiles of the shopper journey, shared by the e2e tests."""

from __future__ import annotations

import random
import uuid
from typing import Any

CREATE_PROFILE = """
mutation Create($input: ProfileInput!) {
  createProfile(input: $input) { id email givenName phoneNumber phoneVerified housing employment
    monthlyIncome { amount currency } }
}"""

ME = """
query { me { id email givenName familyName dateOfBirth phoneNumber phoneVerified
  address { line1 city postalCode country } monthlyIncome { amount currency }
  creditLimit { amount currency } availableCredit { amount currency } } }"""

START_VERIFICATION = "mutation { startPhoneVerification { destination expiresAt attemptsRemaining } }"

CONFIRM_VERIFICATION = """
mutation Confirm($code: String!) { confirmPhoneVerification(code: $code) { id phoneVerified } }"""

APPLICATION_FIELDS = """
  id status amount { amount currency } merchantId orderReference planType createdAt expiresAt
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


def order(amount: int = 20_000, currency: str = "EUR", plan: str = "PAY_IN_4") -> dict[str, Any]:
    return {
        "merchantId": "demo-shop",
        "orderReference": f"ORD-{uuid.uuid4().hex[:8]}",
        "amount": {"amount": amount, "currency": currency},
        "planType": plan,
    }
