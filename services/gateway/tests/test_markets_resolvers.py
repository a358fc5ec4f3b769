"""Markets in GraphQL: the routes payoffQuote, withdrawFromPlan, precontractInformation, the
accepted hash of confirmPlan and the documents fields call, and the /documents/ forwarder."""

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

HASH = "a" * 64


def document(kind: str = "pre-contract", name: str = "secci") -> dict[str, Any]:
    return {
        "kind": kind,
        "name": name,
        "title": "Standard European Consumer Credit Information",
        "contentHash": HASH,
        "contentType": "application/pdf",
        "url": "/documents/applications/app-1/pre-contract.pdf?expires=1&signature=x",
        "expiresAt": "2026-11-02T10:15:00Z",
    }


def test_payoff_withdrawal_and_documents(gql: Callable[..., dict], credit_service: Any, api: Any) -> None:
    plan = api.plan()
    plan_id = plan["id"]
    credit_service.routes.update(
        {
            ("GET", f"/v1/plans/{plan_id}/payoff-quote"): (
                200,
                {
                    "amount": api.money(101_022),
                    "asOf": "2026-12-16",
                    "rebate": api.money(13_027),
                    "remaining": api.money(114_049),
                },
            ),
            ("POST", f"/v1/plans/{plan_id}/withdrawal"): (
                201,
                {
                    "planId": plan_id,
                    "withdrawnOn": "2026-12-11",
                    "principal": api.money(100_000),
                    "interest": api.money(684),
                    "days": 10,
                    "amountPaid": api.money(100_684),
                    "plan": plan,
                },
            ),
            ("GET", f"/v1/plans/{plan_id}"): (200, plan),
            ("GET", f"/v1/plans/{plan_id}/documents"): (200, {"items": [document()]}),
        }
    )
    body = gql(
        """query Q($plan: ID!) { payoffQuote(planId: $plan) { amount { amount } asOf rebate { amount } }
             plan(id: $plan) { documents { kind name contentHash url expiresAt } } }""",
        {"plan": plan_id},
    )
    assert "errors" not in body, body
    assert body["data"]["payoffQuote"] == {
        "amount": {"amount": 101_022},
        "asOf": "2026-12-16",
        "rebate": {"amount": 13_027},
    }
    (doc,) = body["data"]["plan"]["documents"]
    assert doc["contentHash"] == HASH and doc["url"].startswith("/documents/")
    body = gql(
        """mutation W($plan: ID!) { withdrawFromPlan(planId: $plan, idempotencyKey: "withdraw-0001") {
             days interest { amount } amountPaid { amount } plan { id } } }""",
        {"plan": plan_id},
    )
    assert "errors" not in body, body
    assert body["data"]["withdrawFromPlan"] == {
        "days": 10,
        "interest": {"amount": 684},
        "amountPaid": {"amount": 100_684},
        "plan": {"id": plan_id},
    }
    assert credit_service.calls[-1].headers["idempotency-key"] == "withdraw-0001"


def test_precontract_and_the_accepted_hash(gql: Callable[..., dict], credit_service: Any, api: Any) -> None:
    app_id = api.application()["id"]
    credit_service.routes.update(
        {
            ("GET", f"/v1/applications/{app_id}/pre-contract"): (
                200,
                {
                    "applicationId": app_id,
                    "kind": "secci",
                    "title": "Standard European Consumer Credit Information",
                    "html": "<h1>SECCI</h1>",
                    "contentHash": HASH,
                    "pdfUrl": "/documents/x.pdf?expires=1&signature=y",
                    "expiresAt": "2026-11-02T10:15:00Z",
                    "acceptanceRequired": False,
                },
            ),
            ("POST", f"/v1/applications/{app_id}/confirm"): (201, api.plan()),
        }
    )
    body = gql(
        "query P($app: ID!) { precontractInformation(applicationId: $app) {"
        " kind html contentHash acceptanceRequired } }",
        {"app": app_id},
    )
    assert body["data"]["precontractInformation"] == {
        "kind": "secci",
        "html": "<h1>SECCI</h1>",
        "contentHash": HASH,
        "acceptanceRequired": False,
    }
    gql(
        """mutation C($app: ID!, $hash: String) {
             confirmPlan(applicationId: $app, idempotencyKey: "confirm-0001", acceptedDocumentHash: $hash) { id } }""",
        {"app": app_id, "hash": HASH},
    )
    gql(
        'mutation C($app: ID!) { confirmPlan(applicationId: $app, idempotencyKey: "confirm-0002") { id } }',
        {"app": app_id},
    )
    with_hash, without = (c for c in credit_service.calls if c.path.endswith("/confirm"))
    assert with_hash.body == {"acceptedDocumentHash": HASH} and without.body == {}


def test_the_document_forwarder_refuses_unsafe_keys_and_passes_refusals_on(
    gateway: TestClient, credit_service: Any
) -> None:
    assert gateway.get("/documents/../../etc/passwd").status_code == 404
    assert gateway.get("/documents/a/%2e%2e/b.pdf").status_code == 404
    assert credit_service.calls == []
    # the credit service refuses (here: the fake wants a user token a download never carries)
    refused = gateway.get("/documents/applications/app-1/pre-contract.pdf?expires=1&signature=x")
    assert refused.status_code == 403 and "application/pdf" not in refused.headers.get("content-type", "")
