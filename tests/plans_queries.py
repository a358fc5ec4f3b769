"""GraphQL documents of the plan lifecycle (issue 4), shared by the e2e plan tests."""

from __future__ import annotations

MONEY = "{ amount currency }"

QUOTE = f"""
query Quote($input: QuoteInput!) {{
  quote(input: $input) {{ planType apr aprBasisPoints amountFinanced {MONEY} financeCharge {MONEY}
    totalOfPayments {MONEY} installments {{ sequence dueDate amount {MONEY} }} }} }}"""

APPLY = f"""
mutation Apply($input: CreditApplicationInput!, $key: String!) {{
  applyForCredit(input: $input, idempotencyKey: $key) {{
    id status applicationStatus expiresAt reasons {{ code description }}
    notice {{ action date score text reasons {{ code description }} }}
    offer {{ planType apr financeCharge {MONEY} totalOfPayments {MONEY} amountFinanced {MONEY}
             installments {{ sequence dueDate amount {MONEY} }} }} }} }}"""

APPLICATION_NOTICE = """
query One($id: ID!) { application(id: $id) { id status notice { action date reasons { code description } text } } }"""

PLAN_FIELDS = f"""
  id applicationId status planType principal {MONEY} financeCharge {MONEY} totalOfPayments {MONEY} apr
  lateFees {MONEY} refunded {MONEY} totalDue {MONEY} amountPaid {MONEY} amountOutstanding {MONEY}
  returnedToShopper {MONEY}
  installments {{ sequence dueDate status lateSince amount {MONEY} lateFee {MONEY} refunded {MONEY}
                  amountDue {MONEY} amountPaid {MONEY} }}
"""

CONFIRM_PLAN = (
    "mutation Confirm($id: ID!, $key: String!, $hash: String) {"
    " confirmPlan(applicationId: $id, idempotencyKey: $key, acceptedDocumentHash: $hash) {" + PLAN_FIELDS + "} }"
)

CANCEL = "mutation Cancel($id: ID!) { cancelApplication(id: $id) { id status applicationStatus } }"

PLAN = "query Plan($id: ID!) { plan(id: $id) {" + PLAN_FIELDS + "} }"

PLANS = "query { plans { id status } }"

PAY = f"""
mutation Pay($plan: ID!, $amount: MoneyInput!, $key: String!) {{
  makePayment(planId: $plan, amount: $amount, idempotencyKey: $key) {{
    id planId amount {MONEY} source planStatus amountOutstanding {MONEY}
    allocations {{ sequence amount {MONEY} }} }} }}"""

CREDIT = f"""
query {{ me {{ id creditLimit {MONEY} availableCredit {MONEY} }}
         creditLine {{ creditLimit {MONEY} exposure {MONEY} availableCredit {MONEY} }} }}"""
