"""End to end: confirm -> plan, repayments, credit line, quotes."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

from bnpl_common.clock import FixedClock
from bnpl_credit.settings import Settings
from bnpl_credit.testing import Api, FakeScorer, count_rows, make_order, new_key, score_result


def _plan(api: Api, **kw: object) -> dict:
    app = api.approved(**kw)
    r = api.confirm(app["id"])
    assert r.status_code == 201, r.text
    return r.json()


def test_confirm_creates_plan_with_installments(api: Api, clock: FixedClock) -> None:
    app = api.approved()
    clock.advance(timedelta(minutes=10))
    r = api.confirm(app["id"])
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["applicationId"] == app["id"] and plan["status"] == "ACTIVE" and plan["planType"] == "PAY_IN_4"
    assert plan["principal"] == {"amount": 20_000, "currency": "EUR"}
    # pay in 4: the first part is taken at confirmation
    assert plan["amountOutstanding"]["amount"] == 15_000 and plan["amountPaid"]["amount"] == 5_000
    assert [i["dueDate"] for i in plan["installments"]] == ["2026-11-02", "2026-11-16", "2026-11-30", "2026-12-14"]
    assert [i["status"] for i in plan["installments"]] == ["PAID", "DUE", "DUE", "DUE"]
    got = api.request("GET", f"/v1/applications/{app['id']}").json()
    assert got["status"] == "CONFIRMED" and got["planId"] == plan["id"]
    assert api.request("GET", f"/v1/plans/{plan['id']}").json() == plan
    assert api.request("GET", "/v1/plans").json() == {"items": [plan]}


def test_confirm_monthly_plan_sums_exactly(api: Api, scorer: FakeScorer) -> None:
    scorer.result = score_result(pd=0.1, grade="B")
    plan = _plan(api, order=make_order(planType="MONTHLY_12", amount={"amount": 123_457, "currency": "EUR"}))
    total = sum(i["amount"]["amount"] for i in plan["installments"])
    assert total == plan["totalOfPayments"]["amount"] == 123_457 + plan["financeCharge"]["amount"]
    assert plan["aprBasisPoints"] == 1499 and plan["apr"] == 14.99
    assert plan["installments"][0]["dueDate"] == "2026-12-02"


def test_confirm_is_idempotent_and_only_once(api: Api, settings: Settings) -> None:
    app = api.approved()
    key = new_key()
    first = api.confirm(app["id"], key=key)
    again = api.confirm(app["id"], key=key)
    assert again.status_code == 201 and again.json() == first.json()
    other_key = api.confirm(app["id"])
    assert other_key.status_code == 409 and other_key.json()["error"]["info"]["status"] == "CONFIRMED"
    assert count_rows(settings.credit_db_path, "plans") == 1
    second_app = api.approved()
    r = api.confirm(second_app["id"], key=key)  # same key, another application
    assert r.status_code == 409 and r.json()["error"]["type"] == "IdempotencyConflict"


def test_only_approvals_confirm(api: Api, scorer: FakeScorer) -> None:
    scorer.result = score_result(pd=0.25, grade="C")
    referred = api.apply().json()
    r = api.confirm(referred["id"])
    assert r.status_code == 409 and r.json()["error"]["type"] == "InvalidApplicationState"
    assert api.confirm("no-such-id").status_code == 404


def test_payments_oldest_first_partial_and_completion(api: Api, other: Api, settings: Settings) -> None:
    plan = _plan(api)
    r = api.pay(plan["id"], 7_000)
    assert r.status_code == 201, r.text
    pay = r.json()
    assert pay["planId"] == plan["id"] and pay["amount"] == {"amount": 7_000, "currency": "EUR"}
    assert pay["allocations"] == [
        {"sequence": 2, "amount": {"amount": 5_000, "currency": "EUR"}},
        {"sequence": 3, "amount": {"amount": 2_000, "currency": "EUR"}},
    ]
    got = api.request("GET", f"/v1/plans/{plan['id']}").json()
    assert [i["status"] for i in got["installments"]] == ["PAID", "PAID", "DUE", "DUE"]
    assert got["installments"][2]["amountPaid"]["amount"] == 2_000
    assert got["amountPaid"]["amount"] == 12_000 and got["amountOutstanding"]["amount"] == 8_000

    over = api.pay(plan["id"], 8_001)
    assert over.status_code == 422 and over.json()["error"]["type"] == "Overpayment"
    assert over.json()["error"]["field"] == "amount.amount"
    wrong = api.pay(plan["id"], 100, currency="GBP")
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "amount.currency"
    assert other.pay(plan["id"], 100).status_code == 404
    bad = api.pay(plan["id"], 0)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "amount.amount"

    assert api.pay(plan["id"], 8_000).status_code == 201
    done = api.request("GET", f"/v1/plans/{plan['id']}").json()
    assert done["status"] == "COMPLETED" and done["amountOutstanding"]["amount"] == 0
    assert {i["status"] for i in done["installments"]} == {"PAID"}
    assert api.pay(plan["id"], 1).status_code == 422
    assert count_rows(settings.credit_db_path, "plan_records") == 3  # confirmation + 2


def test_payment_idempotency(api: Api, settings: Settings) -> None:
    plan = _plan(api)
    key = new_key()
    first = api.pay(plan["id"], 1_000, key=key)
    again = api.pay(plan["id"], 1_000, key=key)
    assert again.status_code == 201 and again.json() == first.json()
    assert api.pay(plan["id"], 2_000, key=key).status_code == 409
    assert count_rows(settings.credit_db_path, "plan_records") == 2
    assert api.request("GET", f"/v1/plans/{plan['id']}").json()["amountPaid"]["amount"] == 6_000


def test_late_installment_shows_and_knocks_out_next_application(
    api: Api, clock: FixedClock, scorer: FakeScorer
) -> None:
    plan = _plan(api)
    clock.advance(timedelta(days=14 + 7))  # second part due +14 days, grace 7 days: not late yet
    got = api.request("GET", f"/v1/plans/{plan['id']}").json()
    assert got["installments"][1]["status"] == "DUE" and got["lateFees"]["amount"] == 0
    clock.advance(timedelta(days=1))
    got = api.request("GET", f"/v1/plans/{plan['id']}").json()
    second = got["installments"][1]
    # late: EUR 5.00 fee, capped at 25 % of the installment (50.00 -> 5.00 stays)
    assert second["status"] == "LATE" and second["lateFee"]["amount"] == 500 and second["lateSince"] == "2026-11-24"
    assert second["amountDue"]["amount"] == 5_500 and got["totalDue"]["amount"] == 20_500
    app = api.apply().json()
    assert app["status"] == "DECLINED" and app["reasons"][0]["code"] == "KO_LATE_PAYMENTS"
    assert app["notice"]["reasons"][0]["code"] == "KO_LATE_PAYMENTS" and len(app["notice"]["reasons"]) <= 4
    assert scorer.calls[-1]["Records"] == "yes"
    # paying it late keeps it in the history; the fee is paid first with it
    paid = api.pay(plan["id"], 5_500).json()
    assert paid["allocations"] == [{"sequence": 2, "amount": {"amount": 5_500, "currency": "EUR"}}]
    got = api.request("GET", f"/v1/plans/{plan['id']}").json()
    assert got["installments"][1]["status"] == "PAID" and got["installments"][1]["lateSince"] == "2026-11-24"
    assert api.apply().json()["reasons"][0]["code"] == "KO_LATE_PAYMENTS"


def test_credit_line_numbers(api: Api, clock: FixedClock, scorer: FakeScorer) -> None:
    empty = api.request("GET", "/v1/credit-line").json()
    assert empty == {
        "creditLimit": None,
        "exposure": None,
        "availableCredit": None,
        "sharedAccounts": 0,
        "limitReasons": [],
        "howToRaise": "Your first approved purchase sets your limit.",
    }

    scorer.result = score_result(pd=0.1, grade="B")  # limit 2000.00
    first = api.approved(order=make_order(amount={"amount": 50_000, "currency": "EUR"}))
    line = api.request("GET", "/v1/credit-line").json()
    assert line["creditLimit"] == {"amount": 200_000, "currency": "EUR"}
    assert line["exposure"]["amount"] == 50_000 and line["availableCredit"]["amount"] == 150_000

    scorer.result = score_result(pd=0.01, grade="A")  # the limit is set once, at the first approval
    plan = api.confirm(first["id"]).json()
    api.pay(plan["id"], 12_500)
    second = api.approved(order=make_order(amount={"amount": 30_000, "currency": "EUR"}))
    line = api.request("GET", "/v1/credit-line").json()
    assert line["creditLimit"]["amount"] == 200_000
    # 50 000 - 12 500 at confirmation - 12 500 paid = 25 000 owed, + 30 000 held
    assert line["exposure"]["amount"] == 25_000 + 30_000
    assert line["availableCredit"]["amount"] == 200_000 - 55_000

    # the debt feature includes what is owed on open plans
    assert scorer.calls[-1]["Debt"] == round(25_000 / 600, 4)

    # more than is available -> declined
    big = api.apply(
        order=make_order(planType="MONTHLY_12", amount={"amount": 200_000, "currency": "EUR"}),
        monthlyIncome={"amount": 1_000_000, "currency": "EUR"},
    ).json()
    assert big["status"] == "DECLINED" and big["reasons"][0]["code"] == "CREDIT_LIMIT"

    # an expired hold no longer counts
    clock.advance(timedelta(minutes=31))
    line = api.request("GET", "/v1/credit-line").json()
    assert line["exposure"]["amount"] == 25_000
    assert second["id"]


def test_quotes(api: Api) -> None:
    r = api.request("POST", "/v1/quotes", json={"amount": {"amount": 25_000, "currency": "EUR"}})
    assert r.status_code == 200, r.text
    offers = r.json()["offers"]
    assert [o["planType"] for o in offers] == ["PAY_IN_4", "MONTHLY_3", "MONTHLY_6", "MONTHLY_12"]
    for o in offers:
        assert sum(i["amount"]["amount"] for i in o["installments"]) == o["totalOfPayments"]["amount"]
    assert offers[1]["apr"] == 19.99
    r = api.request(
        "POST",
        "/v1/quotes",
        json={"amount": {"amount": 150_000, "currency": "EUR"}, "planTypes": ["PAY_IN_4", "MONTHLY_6"]},
    )
    assert [o["planType"] for o in r.json()["offers"]] == ["MONTHLY_6"]
    r = api.request("POST", "/v1/quotes", json={"amount": {"amount": 100, "currency": "CHF"}})
    assert r.status_code == 422 and r.json()["error"]["type"] == "UnsupportedCurrency"
    assert r.json()["error"]["field"] == "amount.currency"
    r = api.request("POST", "/v1/quotes", json={"amount": {"amount": -1, "currency": "EUR"}})
    assert r.status_code == 422 and r.json()["error"]["field"] == "amount.amount"


def _money(amount: int, currency: str) -> dict:
    return {"amount": amount, "currency": currency}


def test_quotes_state_each_market_s_rate_and_name_it_as_a_representative_example(api: Api) -> None:
    """Quotes are priced at the policy's representative grade (C, 19.99 % nominal)."""
    seen = {}
    for currency in ("EUR", "GBP", "USD"):
        r = api.request("POST", "/v1/quotes", json={"amount": _money(100_000, currency), "planTypes": ["MONTHLY_12"]})
        assert r.status_code == 200, r.text
        (offer,) = r.json()["offers"]
        assert offer["apr"] == 19.99 and offer["aprBasisPoints"] == 1999  # nominal, what interest is computed at
        seen[currency] = (offer["rateKind"], offer["rateLabel"], offer["annualRate"])
    assert seen == {
        "EUR": ("APRC", "Representative APRC", 21.9),
        "GBP": ("APRC", "Representative APR", 21.9),
        "USD": ("APR", "APR", 19.99),
    }


def test_an_offer_and_its_plan_disclose_the_market_s_rate(api: Api, scorer: FakeScorer, settings: Settings) -> None:
    scorer.result = score_result(pd=0.1, grade="D")
    app = api.approved(order=make_order(planType="MONTHLY_12", amount=_money(40_000, "EUR")))  # grade D: limit 500.00
    offer = app["offer"]
    # as in the market issue: 24.99 % nominal over 12 months is an APRC of 28.1 %
    assert (offer["apr"], offer["rateKind"], offer["rateLabel"], offer["annualRate"]) == (24.99, "APRC", "APRC", 28.1)
    r = api.confirm(app["id"])
    assert r.status_code == 201, r.text
    plan = r.json()
    assert (plan["apr"], plan["rateKind"], plan["rateLabel"], plan["annualRate"]) == (24.99, "APRC", "APRC", 28.1)
    assert api.request("GET", f"/v1/plans/{plan['id']}").json()["annualRate"] == 28.1
    with sqlite3.connect(settings.credit_db_path) as db:  # the terms it was made under, kept with the plan
        (doc,) = db.execute("SELECT doc FROM plans WHERE id = ?", (plan["id"],)).fetchone()
    assert json.loads(doc)["marketVersion"] == "eu-2026-11-20"
    pay_in_4 = api.approved(order=make_order(amount=_money(4_000, "EUR")))["offer"]
    assert (pay_in_4["rateKind"], pay_in_4["annualRate"]) == ("APRC", 0.0)


def test_a_us_shopper_borrows_in_dollars_under_regulation_z(api: Api, scorer: FakeScorer) -> None:
    scorer.result = score_result(pd=0.1, grade="D")
    usd = {
        name: _money(value, "USD")
        for name, value in (("monthlyIncome", 300_000), ("monthlyExpenses", 100_000), ("assets", 500_000), ("debt", 0))
    }
    app = api.approved(order=make_order(planType="MONTHLY_12", amount=_money(40_000, "USD")), **usd)
    assert (app["offer"]["rateKind"], app["offer"]["rateLabel"], app["offer"]["annualRate"]) == ("APR", "APR", 24.99)
    plan = api.confirm(app["id"]).json()
    assert plan["principal"] == _money(40_000, "USD") and plan["annualRate"] == 24.99


def test_a_product_s_limits_are_the_market_s(api: Api) -> None:
    r = api.apply(order=make_order(amount=_money(100_001, "EUR")))  # PAY_IN_4 in the EU: 10.00 to 1 000.00
    assert r.status_code == 422 and r.json()["error"]["type"] == "AmountOutOfRange"
    assert r.json()["error"]["info"] == {"minAmount": 1000, "maxAmount": 100_000}
