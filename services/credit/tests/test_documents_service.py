"""Documents over HTTP on the real app: the market's pre-contract information before confirming,
the accepted document kept with the plan with its hash, decline notices per market, and the
signed, expiring download links (the gateway forwards ``/documents/...`` here, signed)."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

import pytest
from bnpl_common.clock import FixedClock
from bnpl_credit.testing import NOW, Api, make_order, new_key
from fastapi.testclient import TestClient


def money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def profile_in(currency: str, **amounts: int) -> dict[str, Any]:
    figures = {"monthlyIncome": 300_000, "monthlyExpenses": 100_000, "assets": 0, "debt": 0, **amounts}
    return {name: money(value, currency) for name, value in figures.items()}


def approval(api: Api, currency: str = "EUR", plan_type: str = "MONTHLY_6") -> dict[str, Any]:
    order = make_order(amount=money(60_000, currency), planType=plan_type)
    return api.approved(order=order, **profile_in(currency))


def pre_contract(api: Api, application_id: str) -> dict[str, Any]:
    response = api.request("GET", f"/v1/applications/{application_id}/pre-contract")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def download(client: TestClient, api: Api, url: str) -> Any:
    """What the gateway does with a link: the same path under /v1, signed by the service."""
    assert url.startswith("/documents/")
    return client.get("/v1" + url, auth=api.auth)


def confirm(api: Api, application_id: str, accepted: str | None) -> Any:
    body = {} if accepted is None else {"acceptedDocumentHash": accepted}
    return api.request("POST", f"/v1/applications/{application_id}/confirm", key=new_key(), json=body)


def test_eu_pre_contract_is_the_secci_and_the_accepted_one_is_kept_with_the_plan(api: Api, client: TestClient) -> None:
    app = approval(api)
    doc = pre_contract(api, app["id"])
    assert doc["kind"] == "secci" and doc["title"] == "Standard European Consumer Credit Information"
    assert "APRC" in doc["html"] and "<script" not in doc["html"] and doc["acceptanceRequired"]
    pdf = download(client, api, doc["pdfUrl"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF"), pdf.text
    assert hashlib.sha256(pdf.content).hexdigest() == doc["contentHash"]
    assert pre_contract(api, app["id"])["contentHash"] == doc["contentHash"]  # rendered once, the same
    plan = confirm(api, app["id"], doc["contentHash"])
    assert plan.status_code == 201, plan.text
    documents = api.request("GET", f"/v1/plans/{plan.json()['id']}/documents").json()["items"]
    assert [(d["kind"], d["name"], d["contentHash"]) for d in documents] == [
        ("pre-contract", "secci", doc["contentHash"])
    ]
    again = download(client, api, documents[0]["url"])
    assert hashlib.sha256(again.content).hexdigest() == doc["contentHash"]


def test_a_document_that_is_not_this_offers_is_refused(api: Api) -> None:
    app = approval(api)
    wrong = confirm(api, app["id"], "0" * 64)
    assert wrong.status_code == 409 and wrong.json()["error"]["field"] == "acceptedDocumentHash"
    malformed = confirm(api, app["id"], "not-a-hash")
    assert malformed.status_code == 422
    assert pre_contract(api, app["id"])  # still confirmable


@pytest.mark.parametrize(
    ("currency", "kind", "rate_name"),
    [("EUR", "secci", "APRC"), ("GBP", "uk-pcci", "Representative APR"), ("USD", "tila-box", "ANNUAL PERCENTAGE RATE")],
)
def test_every_market_requires_acceptance_before_confirming(api: Api, currency: str, kind: str, rate_name: str) -> None:
    app = approval(api, currency)
    refused = confirm(api, app["id"], None)
    assert refused.status_code == 422 and refused.json()["error"]["type"] == "AcceptanceRequired"
    assert refused.json()["error"]["field"] == "acceptedDocumentHash"
    doc = pre_contract(api, app["id"])
    assert doc["kind"] == kind and doc["acceptanceRequired"] and rate_name in doc["html"]
    assert confirm(api, app["id"], doc["contentHash"]).status_code == 201


def test_us_pre_contract_is_the_truth_in_lending_box(api: Api) -> None:
    doc = pre_contract(api, approval(api, "USD")["id"])
    assert doc["kind"] == "tila-box" and "ANNUAL PERCENTAGE RATE" in doc["html"]


def test_links_expire_and_cannot_be_altered(api: Api, client: TestClient, clock: FixedClock) -> None:
    doc = pre_contract(api, approval(api)["id"])
    url = doc["pdfUrl"]
    assert client.get("/v1" + url).status_code == 403  # only the gateway's signed call
    tampered = url.replace("pre-contract.pdf", "pre-contract.html")
    assert download(client, api, tampered).status_code == 403
    clock.advance(timedelta(minutes=16))  # links live 15 minutes
    assert download(client, api, url).status_code == 403


def test_confirming_on_another_day_than_the_decision_needs_that_days_document(api: Api, clock: FixedClock) -> None:
    clock.set(NOW.replace(hour=23, minute=50))  # decided ten minutes before midnight, held 30 minutes
    app = approval(api)
    decided = pre_contract(api, app["id"])
    assert pre_contract(api, app["id"])["contentHash"] == decided["contentHash"]  # the same day, the same one
    clock.advance(timedelta(minutes=15))  # the next day: a plan confirmed now has its dates counted from now
    refused = confirm(api, app["id"], decided["contentHash"])
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["type"] == "DocumentOutdated" and error["field"] == "acceptedDocumentHash"
    assert "read and accept it again" in error["message"]
    today = pre_contract(api, app["id"])
    assert today["contentHash"] != decided["contentHash"]
    plan = confirm(api, app["id"], today["contentHash"])
    assert plan.status_code == 201, plan.text
    body = plan.json()
    # the accepted document's schedule is the plan's own: every due date the plan has, it shows
    first, last = body["installments"][0]["dueDate"], body["installments"][-1]["dueDate"]
    assert first == "2026-12-03" and last == "2027-05-03"  # a month after 3 November, not 2 November
    for installment in body["installments"]:
        shown = date.fromisoformat(installment["dueDate"])
        assert f"{shown.day} {shown:%B} {shown.year}" in today["html"]
    assert "2 December 2026" in decided["html"] and "2 December 2026" not in today["html"]
    kept = api.request("GET", f"/v1/plans/{body['id']}/documents").json()["items"]
    assert [d["contentHash"] for d in kept] == [today["contentHash"]]
    assert pre_contract(api, app["id"])["contentHash"] == today["contentHash"]  # the confirmed one stays


def test_another_customers_application_and_plan_have_no_document(api: Api, other: Api) -> None:
    app = approval(api)
    assert other.request("GET", f"/v1/applications/{app['id']}/pre-contract").status_code == 404
    assert other.request("GET", f"/v1/applications/{app['id']}/documents").status_code == 404
    plan = confirm(api, app["id"], pre_contract(api, app["id"])["contentHash"]).json()
    assert other.request("GET", f"/v1/plans/{plan['id']}/documents").status_code == 404


def declined(api: Api, currency: str) -> dict[str, Any]:
    order = make_order(amount=money(48_000, currency))
    # affordability: 1 000.00 left, 360.00 due in 30 days against 315.00 allowed
    body = api.apply(order=order, **profile_in(currency, monthlyIncome=300_000, monthlyExpenses=200_000)).json()
    assert body["status"] == "DECLINED" and body["reasons"][0]["code"] == "AFFORDABILITY", body
    return body


def test_an_eu_decline_offers_human_review_and_no_ecoa_text(api: Api, client: TestClient) -> None:
    app = declined(api, "EUR")
    assert "Equal Credit Opportunity Act" not in app["notice"]["text"]
    assert "ask for a person to review it" in app["notice"]["text"]
    docs = api.request("GET", f"/v1/applications/{app['id']}/documents").json()["items"]
    assert [(d["kind"], d["name"]) for d in docs] == [("decline-notice", "eu-decline")]
    pdf = download(client, api, docs[0]["url"])
    assert pdf.status_code == 200 and hashlib.sha256(pdf.content).hexdigest() == docs[0]["contentHash"]


def test_a_us_decline_gives_the_ecoa_notice(api: Api) -> None:
    app = declined(api, "USD")
    assert "Equal Credit Opportunity Act" in app["notice"]["text"]
    docs = api.request("GET", f"/v1/applications/{app['id']}/documents").json()["items"]
    assert [(d["kind"], d["name"]) for d in docs] == [("decline-notice", "ecoa-adverse-action")]


def test_an_approval_has_no_decline_notice(api: Api) -> None:
    app = approval(api)
    assert api.request("GET", f"/v1/applications/{app['id']}/documents").json()["items"] == []


def test_two_running_plans_count_against_a_third(api: Api, minter: Any, client: TestClient) -> None:
    # 2 000.00 income, 1 000.00 expenses: 1 000.00 left, stressed 900.00, 35 % = 315.00.
    # Two pay-in-4 plans of 200.00 each still ask 50.00 + 50.00 within 30 days: 200.00 together
    figures = profile_in("EUR", monthlyIncome=200_000, monthlyExpenses=100_000)
    for _ in range(2):
        app = api.approved(order=make_order(amount=money(20_000, "EUR")), **figures)
        assert api.confirm(app["id"]).status_code == 201
    third = api.apply(order=make_order(amount=money(40_000, "EUR")), **figures).json()
    assert third["status"] == "DECLINED" and third["reasons"][0]["code"] == "AFFORDABILITY"
    assert third["reasons"][0]["description"] == (
        "The payments due in the first 30 days of this plan (EUR 300.00) would be more than we can lend against: "
        "at most EUR 252.00, a share of your income after expenses (EUR 1,000.00), less EUR 200.00 due on your "
        "other plans with us in the next 30 days."
    )
    # the same order from a customer without running plans: 300.00 fits under 315.00
    fresh = Api(client, minter)
    assert fresh.apply(order=make_order(amount=money(40_000, "EUR")), **figures).json()["status"] == "APPROVED"


def test_without_fonts_the_service_starts_and_documents_answer_503(
    settings: Any, minter: Any, clock: FixedClock, tmp_path: Any
) -> None:
    from bnpl_credit.disclosures.settings import DocumentSettings
    from bnpl_credit.main import create_app
    from bnpl_credit.testing import FakeScorer

    async def fetch() -> dict[str, Any]:
        return dict(minter.jwks())

    no_fonts = DocumentSettings(
        bnpl_env="test", documents_dir=str(tmp_path / "docs"), document_font=str(tmp_path / "missing.ttf")
    )
    app = create_app(settings, fetch_jwks=fetch, clock=clock, scorer=FakeScorer(), document_settings=no_fonts)
    with TestClient(app) as client:
        api = Api(client, minter)
        eu = approval(api)
        assert api.request("GET", f"/v1/applications/{eu['id']}/pre-contract").status_code == 503
        assert confirm(api, eu["id"], None).status_code == 422  # acceptance is required: nothing is confirmed
        briton = Api(client, minter)  # a credit line has one currency: another customer
        uk = approval(briton, "GBP")
        assert confirm(briton, uk["id"], None).status_code == 422


def test_a_decisions_document_is_rendered_when_it_is_decided(
    settings: Any, minter: Any, clock: FixedClock, tmp_path: Any
) -> None:
    from bnpl_credit.disclosures.settings import DocumentSettings
    from bnpl_credit.main import create_app
    from bnpl_credit.testing import FakeScorer

    async def fetch() -> dict[str, Any]:
        return dict(minter.jwks())

    folder = tmp_path / "prerendered"
    prerender = DocumentSettings(bnpl_env="test", documents_dir=str(folder), document_prerender=True)
    app = create_app(settings, fetch_jwks=fetch, clock=clock, scorer=FakeScorer(), document_settings=prerender)
    with TestClient(app) as client:
        api = Api(client, minter)
        approved = approval(api)
        # rendered after the answer, before anyone asked for it
        kept = folder / "applications" / approved["id"]
        assert sorted(p.name for p in kept.iterdir()) == ["pre-contract.html", "pre-contract.pdf"]
        assert (
            pre_contract(api, approved["id"])["contentHash"]
            == hashlib.sha256((kept / "pre-contract.pdf").read_bytes()).hexdigest()
        )
        refused = declined(Api(client, minter), "USD")
        assert sorted(p.name for p in (folder / "applications" / refused["id"]).iterdir()) == [
            "decline-notice.html",
            "decline-notice.pdf",
        ]
