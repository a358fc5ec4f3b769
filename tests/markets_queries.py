"""GraphQL documents of markets (issue 11): payoff, withdrawal, pre-contract information and
documents, shared by the end-to-end and browser tests."""

from __future__ import annotations

from tests.plans_queries import MONEY, PLAN_FIELDS

MARKET_PLAN_FIELDS = (
    PLAN_FIELDS
    + f"""
  rateKind rateLabel annualRate interestCancelled {MONEY} interestCharged {MONEY} withdrawnOn
  documents {{ kind name title contentHash contentType url expiresAt }}
"""
)

PRECONTRACT = """
query Pre($id: ID!) { precontractInformation(applicationId: $id) {
  applicationId kind title html contentHash pdfUrl expiresAt acceptanceRequired } }"""

CONFIRM_ACCEPTED = (
    "mutation Confirm($id: ID!, $key: String!, $hash: String) {"
    " confirmPlan(applicationId: $id, idempotencyKey: $key, acceptedDocumentHash: $hash) {" + MARKET_PLAN_FIELDS + "} }"
)

MARKET_PLAN = "query Plan($id: ID!) { plan(id: $id) {" + MARKET_PLAN_FIELDS + "} }"

PAYOFF = (
    f"query Payoff($id: ID!) {{ payoffQuote(planId: $id) {{ amount {MONEY} asOf rebate {MONEY} remaining {MONEY} }} }}"
)

PAY_OFF = f"""
mutation Pay($plan: ID!, $amount: MoneyInput!, $key: String!) {{
  makePayment(planId: $plan, amount: $amount, idempotencyKey: $key) {{
    id planStatus amountOutstanding {MONEY} interestCancelled {MONEY} }} }}"""

WITHDRAW = (
    f"mutation Withdraw($id: ID!, $key: String!) {{ withdrawFromPlan(planId: $id, idempotencyKey: $key) {{"
    f" planId withdrawnOn days principal {MONEY} interest {MONEY} amountPaid {MONEY} returnedToShopper {MONEY}"
    " plan {" + MARKET_PLAN_FIELDS + "} } }"
)

DECLINE_DOCUMENTS = """
query One($id: ID!) { application(id: $id) { id status notice { text }
  documents { kind name title contentHash url expiresAt } } }"""
