"""Interest that follows the money, over HTTP on the real app and store: the plan of the market
issue (1 000.00 over 12 months at 24.99 %: installments of 95.04, 140.49 of interest) half
refunded on day one (70.24 of interest left), settled early after 15 days (1 010.22), withdrawn
from after 10 days (6.84 of interest), and the US plan that has no withdrawal period."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from bnpl_common.clock import FixedClock
from bnpl_common.sigv4 import SigV4Auth
from bnpl_credit.settings import LOCAL_MERCHANT_ACCESS_KEY_ID, LOCAL_MERCHANT_SECRET, PACKAGED_POLICY, Settings
from bnpl_credit.storage.sqlite import SqliteStore
from bnpl_credit.testing import Api, FakeScorer, make_order, new_key, score_result
from botocore.credentials import Credentials
from fastapi.testclient import TestClient

THOUSAND = 1_000_00
MERCHANT_AUTH = SigV4Auth(Credentials(LOCAL_MERCHANT_ACCESS_KEY_ID, LOCAL_MERCHANT_SECRET), region="us-east-1")


def merchant_refund(client: TestClient, body: dict[str, Any]) -> Any:
    return client.post("/v1/merchant/refunds", json=body, headers={"Idempotency-Key": new_key()}, auth=MERCHANT_AUTH)


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    """The packaged policy with a limit that lets grade D (24.99 %) borrow 1 000.00."""
    policy = json.loads(PACKAGED_POLICY.read_text())
    policy["credit_limit_by_grade"]["D"] = 300_000
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(policy))
    return settings.model_copy(update={"policy_path": str(path)})


@pytest.fixture
def scorer() -> FakeScorer:
    return FakeScorer(result=score_result(pd=0.05, grade="D"))


def money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def twelve_months(api: Api, currency: str = "EUR") -> dict[str, Any]:
    profile = {k: money(v, currency) for k, v in (("monthlyIncome", 600_000), ("monthlyExpenses", 100_000))}
    profile |= {"assets": money(0, currency), "debt": money(0, currency)}
    app = api.approved(order=make_order(amount=money(THOUSAND, currency), planType="MONTHLY_12"), **profile)
    response = api.confirm(app["id"])
    assert response.status_code == 201, response.text
    plan: dict[str, Any] = response.json()
    assert plan["apr"] == 24.99 and plan["financeCharge"]["amount"] == 140_49
    return plan


def due(plan: dict[str, Any]) -> list[int]:
    return [i["amountDue"]["amount"] for i in plan["installments"]]


def test_half_refunded_on_day_one_leaves_interest_on_what_is_still_financed(api: Api, client: TestClient) -> None:
    plan = twelve_months(api)
    refund = merchant_refund(client, {"planId": plan["id"], "amount": money(500_00, "EUR"), "reason": "half"})
    assert refund.status_code == 201, refund.text
    after = api.request("GET", f"/v1/plans/{plan['id']}").json()
    # the new schedule: 47.52 a month on the same dates, interest only on the 500.00 still financed
    assert due(after) == [47_52] * 12
    assert after["interestCharged"]["amount"] == 70_24  # not 140.49
    assert after["interestCancelled"]["amount"] == 140_49 - 70_24
    assert sum(due(after)) == 500_00 + 70_24 == after["totalDue"]["amount"]
    assert after["refunded"]["amount"] == 500_00 and after["status"] == "ACTIVE"


def test_a_full_refund_cancels_all_interest(api: Api, client: TestClient) -> None:
    plan = twelve_months(api)
    merchant_refund(client, {"planId": plan["id"], "amount": money(400_00, "EUR"), "reason": "part"})
    merchant_refund(client, {"planId": plan["id"], "amount": money(600_00, "EUR"), "reason": "rest"})
    after = api.request("GET", f"/v1/plans/{plan['id']}").json()
    assert after["status"] == "REFUNDED" and after["totalDue"]["amount"] == 0 == after["amountOutstanding"]["amount"]


def test_payoff_after_15_days_costs_15_days_of_interest(api: Api, clock: FixedClock) -> None:
    plan = twelve_months(api)
    clock.advance(timedelta(days=15))
    quote = api.request("GET", f"/v1/plans/{plan['id']}/payoff-quote").json()
    # 1 000.00 x (1 + 0.2499 / 12) ** (15 / (365 / 12)) = 1 010.22
    assert quote["amount"] == money(1_010_22, "EUR") and quote["rebate"] == money(1_140_49 - 1_010_22, "EUR")
    assert quote["asOf"] == clock.now().date().isoformat()
    assert api.pay(plan["id"], 1_140_50).status_code == 422  # more than is owed at all
    paid = api.pay(plan["id"], 1_010_22)
    assert paid.status_code == 201, paid.text
    assert paid.json()["planStatus"] == "COMPLETED" and paid.json()["interestCancelled"]["amount"] == 130_27
    after = api.request("GET", f"/v1/plans/{plan['id']}").json()
    assert after["amountPaid"]["amount"] == 1_010_22 and after["interestCharged"]["amount"] == 10_22


def test_withdrawal_within_14_days_repays_principal_and_interest_for_the_days_used(api: Api, clock: FixedClock) -> None:
    plan = twelve_months(api)
    clock.advance(timedelta(days=10))
    response = api.request("POST", f"/v1/plans/{plan['id']}/withdrawal", key=(key := new_key()))
    assert response.status_code == 201, response.text
    out = response.json()
    # 1 000.00 x 24.99 % x 10 / 365 = 6.846..., rounded down: 6.84; nothing else is charged
    assert out["interest"] == money(6_84, "EUR") and out["days"] == 10
    assert out["amountPaid"] == money(1_006_84, "EUR")
    assert out["plan"]["status"] == "COMPLETED" and out["plan"]["withdrawnOn"] == clock.now().date().isoformat()
    assert out["plan"]["amountOutstanding"]["amount"] == 0 and out["plan"]["interestCharged"]["amount"] == 6_84
    assert api.request("POST", f"/v1/plans/{plan['id']}/withdrawal", key=key).json() == out  # a retry
    again = api.request("POST", f"/v1/plans/{plan['id']}/withdrawal", key=new_key())
    assert again.status_code == 409 and again.json()["error"]["field"] == "planId"


def test_withdrawal_after_the_period_is_refused(api: Api, clock: FixedClock) -> None:
    plan = twelve_months(api)
    clock.advance(timedelta(days=15))
    response = api.request("POST", f"/v1/plans/{plan['id']}/withdrawal", key=new_key())
    assert response.status_code == 409 and response.json()["error"]["type"] == "WithdrawalNotAllowed"


def test_us_plans_have_no_withdrawal_period_and_no_unearned_interest(api: Api, clock: FixedClock) -> None:
    plan = twelve_months(api, "USD")
    response = api.request("POST", f"/v1/plans/{plan['id']}/withdrawal", key=new_key())
    assert response.status_code == 409 and response.json()["error"]["type"] == "WithdrawalNotAllowed"
    # settling on the first day costs the principal: no interest that was not earned
    quote = api.request("GET", f"/v1/plans/{plan['id']}/payoff-quote").json()
    assert quote["amount"] == money(THOUSAND, "USD") and quote["rebate"] == money(140_49, "USD")


def test_another_customers_plan_has_no_quote_and_cannot_be_withdrawn(api: Api, other: Api) -> None:
    plan = twelve_months(api)
    assert other.request("GET", f"/v1/plans/{plan['id']}/payoff-quote").status_code == 404
    assert other.request("POST", f"/v1/plans/{plan['id']}/withdrawal", key=new_key()).status_code == 404


def test_paying_the_whole_schedule_early_takes_only_the_payoff(api: Api, clock: FixedClock) -> None:
    plan = twelve_months(api)
    clock.advance(timedelta(days=15))
    paid = api.pay(plan["id"], 1_140_49)  # every installment as scheduled, on day 15
    assert paid.status_code == 201, paid.text
    body = paid.json()
    assert body["amount"]["amount"] == 1_010_22 and body["interestCancelled"]["amount"] == 130_27
    assert body["planStatus"] == "COMPLETED"


def test_an_installment_paid_on_time_is_not_a_payoff(api: Api, clock: FixedClock) -> None:
    plan = twelve_months(api)
    clock.advance(timedelta(days=30))
    paid = api.pay(plan["id"], 95_04).json()
    assert paid["amount"]["amount"] == 95_04 and paid["interestCancelled"]["amount"] == 0
    assert paid["planStatus"] == "ACTIVE"


def test_withdrawing_from_pay_in_4_repays_what_is_left_of_the_principal(api: Api, clock: FixedClock) -> None:
    app = api.approved(order=make_order(amount=money(200_00, "EUR")))  # 50.00 taken at confirmation
    plan = api.confirm(app["id"]).json()
    clock.advance(timedelta(days=3))
    out = api.request("POST", f"/v1/plans/{plan['id']}/withdrawal", key=new_key()).json()
    assert out["interest"] == money(0, "EUR") and out["amountPaid"] == money(150_00, "EUR")
    assert out["plan"]["amountPaid"]["amount"] == 200_00 and out["plan"]["status"] == "COMPLETED"


def test_withdrawing_after_paying_ahead_gives_the_excess_back(
    api: Api, client: TestClient, clock: FixedClock, settings: Settings
) -> None:
    plan = twelve_months(api)
    clock.advance(timedelta(days=1))
    assert api.pay(plan["id"], 600_00).status_code == 201  # paid ahead
    # the merchant takes 420.00 of the order back: 580.00 still financed, less than was paid, but the
    # recomputed schedule still asks for the interest of the months to come, so the plan runs on
    refunded = merchant_refund(client, {"planId": plan["id"], "amount": money(420_00, "EUR"), "reason": "part"})
    assert refunded.status_code == 201, refunded.text
    before = api.request("GET", f"/v1/plans/{plan['id']}").json()
    assert before["status"] == "ACTIVE" and before["amountPaid"]["amount"] == 600_00
    clock.advance(timedelta(days=9))
    response = api.request("POST", f"/v1/plans/{plan['id']}/withdrawal", key=new_key())
    assert response.status_code == 201, response.text
    out = response.json()
    # 580.00 still financed x 24.99 % x 10 / 365 = 3.970..., rounded down: 3.97; 600.00 was paid
    assert out["principal"] == money(580_00, "EUR") and out["interest"] == money(3_97, "EUR")
    assert out["amountPaid"] == money(0, "EUR") and out["returnedToShopper"] == money(16_03, "EUR")
    after = out["plan"]
    assert after["status"] == "COMPLETED" and after["amountOutstanding"]["amount"] == 0
    assert after["amountPaid"]["amount"] == 583_97  # what withdrawing costs, no more
    assert after["interestCharged"]["amount"] == 3_97 and after["returnedToShopper"]["amount"] == 16_03
    store = SqliteStore(Path(settings.credit_db_path))  # the app's own file: the ledger adds up as stored
    stored = asyncio.run(store.get_plan(api.sub, plan["id"]))
    assert stored is not None
    payments = asyncio.run(store.list_payments(api.sub, plan["id"]))
    refunds = asyncio.run(store.list_refunds(api.sub, plan["id"]))
    stored.check_invariants(payments, refunds)
    assert sum(r.returned_to_shopper for r in refunds) == after["returnedToShopper"]["amount"]
