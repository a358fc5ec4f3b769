"""Interest that follows the money and documents, end to end over GraphQL against the real
processes. The credit service's clock is set to 1 December 2026 (its test-only offset), so the
figures are those of the market issue's plan: 1 000.00 over 12 months, whose interest at each
EU grade rate is stated below; at 24.99 % it is 140.49, 70.24 once half is refunded on day one,
1 010.22 settles it after 15 days and withdrawing after 10 days costs 6.84."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from bnpl_common.sigv4 import SigV4Auth
from bnpl_common.testing import free_port
from bnpl_credit.settings import LOCAL_MERCHANT_ACCESS_KEY_ID, LOCAL_MERCHANT_SECRET
from botocore.credentials import Credentials

from scripts.devstack import Ports, Stack
from tests.conftest import Shopper, read_outbox
from tests.journey import (
    CONFIRM_VERIFICATION,
    CREATE_PROFILE,
    START_VERIFICATION,
    good_profile,
    merchants,
    merchants_of,
    order,
    session_of,
    ship,
)
from tests.markets_queries import (
    CONFIRM_ACCEPTED,
    DECLINE_DOCUMENTS,
    MARKET_PLAN,
    PAY_OFF,
    PAYOFF,
    PRECONTRACT,
    WITHDRAW,
)
from tests.plans_queries import APPLY

pytestmark = pytest.mark.e2e

MERCHANT = SigV4Auth(Credentials(LOCAL_MERCHANT_ACCESS_KEY_ID, LOCAL_MERCHANT_SECRET), region="us-east-1")
DAY = 86_400
START = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
THOUSAND = 1_000_00

# 1 000.00 over 12 months from 1 December 2026, per nominal rate (basis points):
# finance charge, interest once 500.00 is refunded on day one, the payoff after 15 days,
# withdrawal interest after 10 days (markets/interest.py; tests/test_interest.py derives them),
# and after 10 days on the 590.00 left once the merchant took 410.00 of the order back
FIGURES = {
    999: (54_95, 27_47, 1_004_09, 2_73, 1_61),
    1499: (83_03, 41_51, 1_006_14, 4_10, 2_42),
    1999: (111_56, 55_79, 1_008_18, 5_47, 3_23),
    2499: (140_49, 70_24, 1_010_22, 6_84, 4_03),
}


@pytest.fixture(scope="module")
def clock_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("markets-clock") / "offset-seconds"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, clock_file: Path) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("markets-stack")
    ports = Ports(gateway=free_port(), user=free_port(), credit=free_port(), model=free_port(), cognito=free_port())
    clock_file.write_text("0")
    env = {"SCORER_TIMEOUT_SECONDS": "1.5", "CLOCK_OFFSET_FILE": str(clock_file)}
    stack = Stack(data_dir=data_dir, ports=ports, extra_env=env)
    stack.start()
    try:
        with merchants_of(stack.url("credit"), stack.data_dir):  # journey.order() sells here
            yield stack
    finally:
        stack.stop()


@pytest.fixture
def on_day(clock_file: Path) -> Iterator[Any]:
    """Set the credit service's clock to ``START`` plus ``days``."""

    def to(days: float) -> None:
        clock_file.write_text(str(int((START - datetime.now(UTC)).total_seconds() + days * DAY)))

    to(0)
    yield to
    clock_file.write_text("0")


def onboard(shopper: Shopper, stack: Stack, currency: str = "EUR", **overrides: Any) -> None:
    profile = good_profile(**overrides)
    for name in ("monthlyIncome", "monthlyExpenses", "assets", "debt"):
        profile[name] = {**profile[name], "currency": currency}
    shopper.ok(CREATE_PROFILE, {"input": {**profile, "email": shopper.email}})
    shopper.ok(START_VERIFICATION)
    shopper.ok(CONFIRM_VERIFICATION, {"code": read_outbox(stack, profile["phoneNumber"])})


_CHECKOUT_OF: dict[str, str] = {}  # application id -> the merchant's checkout id
_APPLICATION_OF_PLAN: dict[str, str] = {}


def apply(shopper: Shopper, the_order: dict[str, Any]) -> dict[str, Any]:
    """The one place an application is made: on the merchant's checkout session ``the_order`` names."""
    app: dict[str, Any] = shopper.ok(APPLY, {"input": the_order, "key": uuid.uuid4().hex})["applyForCredit"]
    _CHECKOUT_OF[app["id"]] = session_of(the_order)["id"]
    return app


def accept_and_confirm(shopper: Shopper, app_id: str) -> dict[str, Any]:
    """Accept the pre-contract information and confirm; the merchant then ships the order, which
    starts the plan (its first due date is the capture's day)."""
    pre = shopper.ok(PRECONTRACT, {"id": app_id})["precontractInformation"]
    confirmed: dict[str, Any] = shopper.ok(
        CONFIRM_ACCEPTED, {"id": app_id, "key": uuid.uuid4().hex, "hash": pre["contentHash"]}
    )["confirmPlan"]
    ship(_CHECKOUT_OF[app_id])
    _APPLICATION_OF_PLAN[confirmed["id"]] = app_id
    plan: dict[str, Any] = shopper.ok(MARKET_PLAN, {"id": confirmed["id"]})["plan"]
    return plan


def twelve_months(shopper: Shopper) -> tuple[dict[str, Any], tuple[int, int, int, int, int]]:
    app = apply(shopper, order(amount=THOUSAND, plan="MONTHLY_12"))
    assert app["status"] == "APPROVED", app
    plan = accept_and_confirm(shopper, app["id"])
    figures = FIGURES[round(plan["apr"] * 100)]
    assert plan["financeCharge"]["amount"] == figures[0]
    return plan, figures


def refund(stack: Stack, plan_id: str, amount: int) -> dict[str, Any]:
    """The merchant refunds part of the order, by its checkout (as a shop does)."""
    checkout_id = _CHECKOUT_OF[_APPLICATION_OF_PLAN[plan_id]]
    response = merchants().client("demo-shop").refund(checkout_id, amount, "EUR")
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def sums_hold(plan: dict[str, Any]) -> None:
    insts = plan["installments"]
    assert sum(i["amount"]["amount"] for i in insts) == plan["totalOfPayments"]["amount"]
    assert sum(i["amountDue"]["amount"] for i in insts) == plan["totalDue"]["amount"]
    assert plan["amountOutstanding"]["amount"] == plan["totalDue"]["amount"] - plan["amountPaid"]["amount"]
    assert all(i["amountDue"]["amount"] >= 0 for i in insts)


def test_half_refund_on_day_one_recomputes_the_schedule(stack: Stack, new_shopper: Any, on_day: Any) -> None:
    shopper = new_shopper()
    onboard(shopper, stack)
    plan, (charge, after_half, _, _, _) = twelve_months(shopper)
    refund(stack, plan["id"], 500_00)
    after = shopper.ok(MARKET_PLAN, {"id": plan["id"]})["plan"]
    sums_hold(after)
    assert after["interestCharged"]["amount"] == after_half  # 70.24 at 24.99 %, not 140.49
    assert after["interestCancelled"]["amount"] == charge - after_half
    assert after["totalDue"]["amount"] == 500_00 + after_half
    new = [i["amountDue"]["amount"] for i in after["installments"]]
    assert max(new) - min(new) <= 10  # level again, the last absorbing the rounding


def test_payoff_quote_and_payoff_through_make_payment(stack: Stack, new_shopper: Any, on_day: Any) -> None:
    shopper = new_shopper()
    onboard(shopper, stack)
    plan, (charge, _, payoff, _, _) = twelve_months(shopper)
    on_day(15)
    quote = shopper.ok(PAYOFF, {"id": plan["id"]})["payoffQuote"]
    assert quote["amount"]["amount"] == payoff and quote["asOf"] == "2026-12-16"  # 1 010.22 at 24.99 %
    assert quote["rebate"]["amount"] == THOUSAND + charge - payoff
    paid = shopper.ok(
        PAY_OFF, {"plan": plan["id"], "amount": {"amount": payoff, "currency": "EUR"}, "key": uuid.uuid4().hex}
    )["makePayment"]
    assert paid["planStatus"] == "COMPLETED" and paid["amountOutstanding"]["amount"] == 0
    assert paid["interestCancelled"]["amount"] == THOUSAND + charge - payoff
    after = shopper.ok(MARKET_PLAN, {"id": plan["id"]})["plan"]
    sums_hold(after)
    assert after["interestCharged"]["amount"] == payoff - THOUSAND  # 10.22: 15 days of interest


def test_withdrawal_within_14_days(stack: Stack, new_shopper: Any, on_day: Any) -> None:
    shopper = new_shopper()
    onboard(shopper, stack)
    plan, (_, _, _, ten_days, _) = twelve_months(shopper)
    on_day(10)
    out = shopper.ok(WITHDRAW, {"id": plan["id"], "key": uuid.uuid4().hex})["withdrawFromPlan"]
    assert out["days"] == 10 and out["interest"]["amount"] == ten_days  # 6.84 at 24.99 %
    assert out["amountPaid"]["amount"] == THOUSAND + ten_days
    assert out["plan"]["status"] == "COMPLETED" and out["plan"]["withdrawnOn"] == "2026-12-11"
    sums_hold(out["plan"])
    on_day(20)
    late = shopper.gql(WITHDRAW, {"id": plan["id"], "key": uuid.uuid4().hex}).json()["errors"][0]
    assert late["errorType"] == "PlanNotActive"


def test_withdrawing_after_paying_ahead_gives_the_excess_back(stack: Stack, new_shopper: Any, on_day: Any) -> None:
    shopper = new_shopper()
    onboard(shopper, stack)
    plan, (_, _, _, _, ten_days_on_590) = twelve_months(shopper)
    on_day(1)
    paid = {"plan": plan["id"], "amount": {"amount": 600_00, "currency": "EUR"}, "key": uuid.uuid4().hex}
    assert shopper.ok(PAY_OFF, paid)["makePayment"]["planStatus"] == "ACTIVE"  # paid ahead
    refund(stack, plan["id"], 410_00)  # 590.00 still financed: less than was paid
    assert shopper.ok(MARKET_PLAN, {"id": plan["id"]})["plan"]["status"] == "ACTIVE"
    on_day(10)
    out = shopper.ok(WITHDRAW, {"id": plan["id"], "key": uuid.uuid4().hex})["withdrawFromPlan"]
    assert out["principal"]["amount"] == 590_00 and out["interest"]["amount"] == ten_days_on_590  # 4.03 at 24.99 %
    assert out["amountPaid"]["amount"] == 0
    assert out["returnedToShopper"]["amount"] == 600_00 - 590_00 - ten_days_on_590  # 5.97 at 24.99 %
    assert out["plan"]["status"] == "COMPLETED" and out["plan"]["amountPaid"]["amount"] == 590_00 + ten_days_on_590
    assert out["plan"]["returnedToShopper"]["amount"] == out["returnedToShopper"]["amount"]
    sums_hold(out["plan"])


def test_confirming_the_day_after_the_decision_needs_that_days_document(
    stack: Stack, new_shopper: Any, on_day: Any
) -> None:
    shopper = new_shopper()
    onboard(shopper, stack)
    on_day((23 * 60 + 50 - 10 * 60) / (24 * 60))  # 23:50 on 1 December: the approval is held 30 minutes
    app = apply(shopper, order(amount=30_000, plan="MONTHLY_3"))
    decided = shopper.ok(PRECONTRACT, {"id": app["id"]})["precontractInformation"]
    assert "1 January 2027" in decided["html"]  # a month after 1 December
    on_day((24 * 60 + 5 - 10 * 60) / (24 * 60))  # 00:05 on 2 December
    variables = {"id": app["id"], "key": uuid.uuid4().hex, "hash": decided["contentHash"]}
    error = shopper.error(CONFIRM_ACCEPTED, variables)
    assert error["errorType"] == "DocumentOutdated" and error["errorInfo"]["field"] == "acceptedDocumentHash"
    today = shopper.ok(PRECONTRACT, {"id": app["id"]})["precontractInformation"]
    assert today["contentHash"] != decided["contentHash"] and "2 January 2027" in today["html"]
    confirmed = shopper.ok(CONFIRM_ACCEPTED, {**variables, "hash": today["contentHash"]})["confirmPlan"]
    assert [d["contentHash"] for d in confirmed["documents"]] == [today["contentHash"]]
    assert "1 January 2027" not in today["html"]


def test_the_accepted_document_is_kept_and_downloadable(stack: Stack, new_shopper: Any, on_day: Any) -> None:
    shopper = new_shopper()
    onboard(shopper, stack)
    app = apply(shopper, order(amount=30_000, plan="MONTHLY_3"))
    pre = shopper.ok(PRECONTRACT, {"id": app["id"]})["precontractInformation"]
    assert pre["kind"] == "secci" and "APRC" in pre["html"]
    plan = accept_and_confirm(shopper, app["id"])
    assert plan["rateKind"] == "APRC" and plan["rateLabel"] == "APRC"
    (doc,) = plan["documents"]
    assert doc["contentHash"] == pre["contentHash"] and doc["kind"] == "pre-contract"
    pdf = httpx.get(stack.url("gateway") + doc["url"], timeout=30)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(pdf.content).hexdigest() == pre["contentHash"]
    assert httpx.get(stack.url("gateway") + doc["url"] + "x", timeout=30).status_code == 403


def test_an_eu_decline_notice_is_a_document_without_ecoa_text(stack: Stack, new_shopper: Any, on_day: Any) -> None:
    shopper = new_shopper()
    # 1 200.00 - 1 000.00 = 200.00 left, stressed 180.00, 35 % = 63.00: a 400.00 pay in 4 asks
    # 300.00 in its first 30 days
    onboard(
        shopper,
        stack,
        monthlyIncome={"amount": 120_000, "currency": "EUR"},
        monthlyExpenses={"amount": 100_000, "currency": "EUR"},
    )
    app = apply(shopper, order(amount=400_00))
    assert app["status"] == "DECLINED" and app["reasons"][0]["code"] == "AFFORDABILITY"
    assert "(EUR 300.00) would be more than we can lend against: at most EUR 63.00" in app["reasons"][0]["description"]
    one = shopper.ok(DECLINE_DOCUMENTS, {"id": app["id"]})["application"]
    assert "Equal Credit Opportunity Act" not in one["notice"]["text"]
    (doc,) = one["documents"]
    assert doc["name"] == "eu-decline"
    assert httpx.get(stack.url("gateway") + doc["url"], timeout=30).status_code == 200
