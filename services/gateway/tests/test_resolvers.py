"""Resolvers: which REST route each field calls, with what, and how the answer is mapped."""

import re
from collections.abc import Callable
from typing import Any

import pytest
from bnpl_common.sigv4 import SIGNED_HEADERS
from fastapi.testclient import TestClient

ME_FULL = """
query {
  me {
    id email givenName familyName dateOfBirth phoneNumber phoneVerified
    address { line1 line2 city region postalCode country }
    monthlyIncome { amount currency } housing employment employmentYears
    createdAt creditLimit { amount currency } availableCredit { amount currency }
  }
}
"""
APPLY = """
mutation Apply($input: CreditApplicationInput!, $key: String!) {
  applyForCredit(input: $input, idempotencyKey: $key) {
    id status applicationStatus score riskGrade reasons { code description }
    offer {
      planType apr aprBasisPoints rateKind rateLabel annualRate totalOfPayments { amount }
      installments { sequence dueDate amount { amount } }
    }
  }
}
"""
CHECKOUT_TOKEN = "ct_4kQ9xY2mZr8wP1nB7vL3sD6fH0jT5gA"
ORDER = {"checkoutToken": CHECKOUT_TOKEN, "planType": "PAY_IN_4"}


def test_me_reads_profile_and_credit_line_with_signed_calls(
    gql: Callable[..., dict], user_service, credit_service, api: Any, token: str
) -> None:
    user_service.routes[("GET", "/v1/profile")] = (200, api.customer())
    credit_service.routes[("GET", "/v1/credit-line")] = (
        200,
        {"creditLimit": api.money(100_000), "exposure": api.money(40_000), "availableCredit": api.money(60_000)},
    )
    body = gql(ME_FULL, **{"X-Request-Id": "req-me-1"})
    assert "errors" not in body, body
    me = body["data"]["me"]
    assert me["id"] == api.sub and me["givenName"] == "Ada" and me["dateOfBirth"] == "1990-12-10"
    assert me["address"]["country"] == "GB" and me["address"]["line2"] is None
    assert me["housing"] == "RENT" and me["createdAt"] == "2026-11-01T09:00:00Z"
    assert me["creditLimit"] == {"amount": 100_000, "currency": "EUR"}
    assert me["availableCredit"] == {"amount": 60_000, "currency": "EUR"}
    # Both credit fields selected: the credit line is fetched once for the request.
    assert credit_service.paths() == [("GET", "/v1/credit-line")]
    for call in (*user_service.calls, *credit_service.calls):
        assert call.sub == api.sub  # the fake verified SigV4 and the forwarded token
        assert call.headers["x-user-authorization"] == token
        assert call.headers["x-request-id"] == "req-me-1"
        signed = re.search(r"SignedHeaders=([^,]+)", call.headers["authorization"]).group(1).split(";")
        assert {"host", "x-user-authorization", "x-request-id"} <= set(signed) <= {*SIGNED_HEADERS, "x-amz-date"}


def test_me_without_credit_fields_does_not_call_credit(gql: Callable[..., dict], user_service, credit_service, api):
    user_service.routes[("GET", "/v1/profile")] = (200, api.customer())
    assert gql("{ me { id phoneVerified } }")["data"] == {"me": {"id": api.sub, "phoneVerified": True}}
    assert credit_service.calls == []


def test_credit_limit_is_null_before_first_approval(gql, user_service, credit_service, api) -> None:
    user_service.routes[("GET", "/v1/profile")] = (200, api.customer())
    credit_service.routes[("GET", "/v1/credit-line")] = (
        200,
        {"creditLimit": None, "exposure": api.money(0), "availableCredit": api.money(0)},
    )
    body = gql("{ me { creditLimit { amount } availableCredit { amount } } }")
    assert body == {"data": {"me": {"creditLimit": None, "availableCredit": None}}}


def test_me_is_null_without_profile(gql, user_service, api) -> None:
    user_service.routes[("GET", "/v1/profile")] = (404, api.error("ProfileNotFound", "no profile"))
    assert gql("{ me { id } }") == {"data": {"me": None}}


def test_apply_for_credit_is_a_pipeline(gql, user_service, credit_service, api) -> None:
    profile = api.customer(phoneNumber="+447700900999")
    user_service.routes[("GET", "/v1/profile")] = (200, profile)
    credit_service.routes[("POST", "/v1/applications")] = (201, api.application("APPROVED"))
    body = gql(APPLY, {"input": ORDER, "key": "checkout-0001"})
    assert "errors" not in body, body
    app = body["data"]["applyForCredit"]
    assert app["status"] == "APPROVED" and app["applicationStatus"] == "APPROVED"
    assert app["score"] == 712 and app["reasons"] == [{"code": "R01", "description": "Short credit history"}]
    assert app["offer"]["planType"] == "PAY_IN_4" and len(app["offer"]["installments"]) == 4
    assert (app["offer"]["rateKind"], app["offer"]["rateLabel"], app["offer"]["annualRate"]) == ("APRC", "APRC", 0.0)
    assert user_service.paths() == [("GET", "/v1/profile/snapshot")]  # the profile signed for the credit service
    (call,) = credit_service.calls
    assert (call.method, call.path) == ("POST", "/v1/applications")
    assert call.headers["idempotency-key"] == "checkout-0001"
    # the session's token and the plan (merchant, reference and amount are the session's own), and
    # exactly what step 1 read, with the user service's signature passed through untouched
    signature = {"signedAt": "2026-03-15T12:00:00.000000Z", "signature": "local.test"}
    assert call.body == {
        "checkoutToken": CHECKOUT_TOKEN,
        "planType": "PAY_IN_4",
        "profile": profile,
        "profileSignature": signature,
    }


def test_apply_without_profile_is_profile_not_found(gql, user_service, credit_service, api) -> None:
    user_service.routes[("GET", "/v1/profile")] = (404, api.error("ProfileNotFound", "no profile"))
    body = gql(APPLY, {"input": ORDER, "key": "checkout-0002"})
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["errorType"] == "ProfileNotFound" and error["errorInfo"] == {"field": "profile"}
    assert error["path"] == ["applyForCredit"]
    assert credit_service.calls == []


def test_lifecycle_status_and_decision_are_separate(gql, credit_service, api) -> None:
    """GraphQL ``status`` is the service's ``decision``; ``applicationStatus`` its lifecycle ``status``."""
    credit_service.routes[("GET", "/v1/applications")] = (
        200,
        {
            "items": [
                api.application("CONFIRMED", decision="APPROVED", planId="p-1"),
                api.application("CANCELLED", decision="APPROVED"),
                api.application("DECLINED", decision="DECLINED"),
                api.application("EXPIRED", decision="REFERRED", offer=None),
            ],
            "nextToken": "t2",
        },
    )
    body = gql('{ applications(limit: 4, nextToken: "t1") { items { status applicationStatus planId } nextToken } }')
    page = body["data"]["applications"]
    assert [(i["status"], i["applicationStatus"]) for i in page["items"]] == [
        ("APPROVED", "CONFIRMED"),
        ("APPROVED", "CANCELLED"),
        ("DECLINED", "DECLINED"),
        ("REFERRED", "EXPIRED"),
    ]
    assert page["nextToken"] == "t2"
    assert credit_service.calls[0].query == {"limit": "4", "nextToken": "t1"}


def test_credit_routes(gql, credit_service, api) -> None:
    app_id, plan_id = api.application()["id"], api.plan()["id"]
    credit_service.routes.update(
        {
            ("GET", f"/v1/applications/{app_id}"): (200, api.application()),
            ("POST", "/v1/quotes"): (200, {"offers": [api.offer(), api.offer("MONTHLY_3")]}),
            ("POST", f"/v1/applications/{app_id}/confirm"): (201, api.plan()),
            ("POST", f"/v1/applications/{app_id}/cancel"): (200, api.application("CANCELLED")),
            ("GET", "/v1/plans"): (200, {"items": [api.plan()]}),
            ("GET", f"/v1/plans/{plan_id}"): (200, api.plan()),
            ("POST", f"/v1/plans/{plan_id}/payments"): (
                201,
                {
                    "id": "pay-1",
                    "planId": plan_id,
                    "amount": api.money(10_000),
                    "createdAt": "2026-11-02T10:00:00Z",
                    "allocations": [{"sequence": 2, "amount": api.money(10_000)}],
                },
            ),
        }
    )
    body = gql(
        """
        query Q($app: ID!, $plan: ID!) {
          application(id: $app) { id status }
          quote(input: {amount: {amount: 40000, currency: "EUR"}, planTypes: [PAY_IN_4, MONTHLY_3]}) { planType }
          plans { id installments { status amountPaid { amount } } }
          plan(id: $plan) { amountOutstanding { amount } }
          missing: application(id: "no-such-app") { id }
        }""",
        {"app": app_id, "plan": plan_id},
    )
    assert "errors" not in body, body
    assert body["data"]["application"] == {"id": app_id, "status": "APPROVED"}
    assert [o["planType"] for o in body["data"]["quote"]] == ["PAY_IN_4", "MONTHLY_3"]
    assert body["data"]["plans"][0]["installments"][0] == {"status": "PAID", "amountPaid": {"amount": 10_000}}
    assert body["data"]["plan"] == {"amountOutstanding": {"amount": 30_000}}
    assert body["data"]["missing"] is None
    quote_call = next(c for c in credit_service.calls if c.path == "/v1/quotes")
    assert quote_call.body == {"amount": {"amount": 40000, "currency": "EUR"}, "planTypes": ["PAY_IN_4", "MONTHLY_3"]}

    credit_service.calls.clear()
    body = gql(
        """
        mutation M($app: ID!, $plan: ID!) {
          confirmPlan(applicationId: $app, idempotencyKey: "confirm-0001") { id status }
          makePayment(planId: $plan, amount: {amount: 10000, currency: "EUR"}, idempotencyKey: "pay-00000001") {
            id allocations { sequence amount { amount } }
          }
          cancelApplication(id: $app) { applicationStatus }
        }""",
        {"app": app_id, "plan": plan_id},
    )
    assert "errors" not in body, body
    assert body["data"]["confirmPlan"] == {"id": plan_id, "status": "ACTIVE"}
    assert body["data"]["makePayment"]["allocations"] == [{"sequence": 2, "amount": {"amount": 10_000}}]
    assert body["data"]["cancelApplication"] == {"applicationStatus": "CANCELLED"}
    confirm, pay, cancel = credit_service.calls
    assert confirm.headers["idempotency-key"] == "confirm-0001"
    assert pay.headers["idempotency-key"] == "pay-00000001"
    assert pay.body == {"amount": {"amount": 10000, "currency": "EUR"}}
    assert "idempotency-key" not in cancel.headers


def test_ids_that_would_change_the_route_never_leave_the_gateway(gql, credit_service) -> None:
    body = gql('{ application(id: "../plans") { id } plan(id: "x/y") { id } }')
    assert body == {"data": {"application": None, "plan": None}}
    body = gql('mutation { cancelApplication(id: "a?b=c") { id } }')
    assert body["errors"][0]["errorType"] == "ValidationError"
    assert body["errors"][0]["errorInfo"] == {"field": "id"}
    assert credit_service.calls == []


PROFILE_INPUT = {
    "givenName": "Ada",
    "familyName": "Lovelace",
    "dateOfBirth": "1990-12-10",
    "phoneNumber": "+447700900123",
    "address": {"line1": "1 High Street", "city": "London", "postalCode": "N1 9GU", "country": "GB"},
    "monthlyIncome": {"amount": 350000, "currency": "EUR"},
    "monthlyExpenses": {"amount": 150000, "currency": "EUR"},
    "housing": "RENT",
    "employment": "FIXED",
    "employmentYears": 4,
    "assets": {"amount": 1000000, "currency": "EUR"},
    "debt": {"amount": 0, "currency": "EUR"},
}
CREATE = "mutation C($input: ProfileInput!, $key: String) { createProfile(input: $input, idempotencyKey: $key) { id } }"


def test_create_profile_sends_an_idempotency_key(gql, user_service, api) -> None:
    user_service.routes[("PUT", "/v1/profile")] = (201, api.customer())
    gql(CREATE, {"input": PROFILE_INPUT})
    gql(CREATE, {"input": PROFILE_INPUT})
    gql(CREATE, {"input": PROFILE_INPUT, "key": "profile-key-1"})
    keys = [c.headers["idempotency-key"] for c in user_service.calls]
    assert re.fullmatch(r"[0-9a-f-]{36}", keys[0]) and keys[0] != keys[1]
    assert keys[2] == "profile-key-1"
    assert user_service.calls[0].body == PROFILE_INPUT  # unset optional fields are left out


def test_update_profile_and_phone_verification(gql, user_service, api) -> None:
    user_service.routes.update(
        {
            ("PATCH", "/v1/profile"): (200, api.customer(phoneNumber="+447700900999", phoneVerified=False)),
            ("POST", "/v1/profile/phone-verification"): (
                202,
                {"destination": "+44*******999", "expiresAt": "2026-11-01T10:10:00+00:00", "attemptsRemaining": 5},
            ),
            ("POST", "/v1/profile/phone-verification/confirm"): (200, api.customer()),
        }
    )
    body = gql('mutation { updateProfile(input: {phoneNumber: "+447700900999", email: null}) { phoneVerified } }')
    assert body == {"data": {"updateProfile": {"phoneVerified": False}}}
    assert user_service.calls[0].body == {"phoneNumber": "+447700900999", "email": None}
    body = gql("mutation { startPhoneVerification { destination expiresAt attemptsRemaining } }")
    assert body["data"]["startPhoneVerification"] == {
        "destination": "+44*******999",
        "expiresAt": "2026-11-01T10:10:00Z",
        "attemptsRemaining": 5,
    }
    body = gql('mutation { confirmPhoneVerification(code: "123456") { phoneVerified } }')
    assert body == {"data": {"confirmPhoneVerification": {"phoneVerified": True}}}
    assert user_service.calls[-1].body == {"code": "123456"}


def test_graphql_request_needs_only_a_token(gateway: TestClient, token: str, user_service, api) -> None:
    """The gateway keeps nothing between requests: the same query twice calls the service twice."""
    user_service.routes[("GET", "/v1/profile")] = (200, api.customer())
    for _ in range(2):
        assert (
            gateway.post("/graphql", json={"query": "{ me { id } }"}, headers={"Authorization": token}).status_code
            == 200
        )
    assert len(user_service.calls) == 2


CHECKOUT = """
query C($token: String!) {
  checkoutSession(token: $token) {
    id merchantId merchantName orderReference amount { amount currency } items { name quantity unitPrice { amount } }
    planTypes offers { planType totalOfPayments { amount } } status expiresAt applicationId merchantRedirectUrl
  }
}
"""


def checkout_json(api: Any, **overrides: Any) -> dict[str, Any]:
    return {
        "id": "chk_01",
        "merchantId": "demo-shop",
        "merchantName": "Demo Shop",
        "orderReference": "SH-1",
        "amount": api.money(40_000),
        "items": [{"name": "Espresso machine", "quantity": 1, "unitPrice": api.money(40_000)}],
        "planTypes": ["PAY_IN_4"],
        "offers": [api.offer("PAY_IN_4", 40_000)],
        "status": "OPEN",
        "expiresAt": "2026-11-01T11:00:00Z",
        "applicationId": None,
        "merchantRedirectUrl": None,
        **overrides,
    }


def test_checkout_session_reads_the_merchants_order_by_token(gql, credit_service, api) -> None:
    credit_service.routes[("GET", f"/v1/checkout-sessions/{CHECKOUT_TOKEN}")] = (200, checkout_json(api))
    body = gql(CHECKOUT, {"token": CHECKOUT_TOKEN})
    assert "errors" not in body, body
    session = body["data"]["checkoutSession"]
    assert session["merchantName"] == "Demo Shop" and session["orderReference"] == "SH-1"
    assert session["amount"] == {"amount": 40_000, "currency": "EUR"}
    assert session["items"] == [{"name": "Espresso machine", "quantity": 1, "unitPrice": {"amount": 40_000}}]
    assert session["offers"] == [{"planType": "PAY_IN_4", "totalOfPayments": {"amount": 40_000}}]
    assert (session["status"], session["merchantRedirectUrl"]) == ("OPEN", None)
    (call,) = credit_service.calls
    assert (call.method, call.path) == ("GET", f"/v1/checkout-sessions/{CHECKOUT_TOKEN}")


def test_an_unknown_or_expired_checkout_is_null(gql, credit_service, api) -> None:
    credit_service.routes[("GET", f"/v1/checkout-sessions/{CHECKOUT_TOKEN}")] = (
        404,
        api.error("CheckoutNotFound", "no such checkout"),
    )
    assert gql(CHECKOUT, {"token": CHECKOUT_TOKEN}) == {"data": {"checkoutSession": None}}


BAD_TOKENS = ["short", "../v1/applications", "a" * 200, "ct_4kQ9xY2mZr8wP1nB7vL3sD6f?x=1", "ct_4kQ9xY2mZr8wP1nB7vL3é"]


@pytest.mark.parametrize("bad", BAD_TOKENS)
def test_a_malformed_token_is_refused_at_the_edge_naming_the_field(gql, user_service, credit_service, api, bad) -> None:
    user_service.routes[("GET", "/v1/profile")] = (200, api.customer())
    (error,) = gql(CHECKOUT, {"token": bad})["errors"]
    assert (error["errorType"], error["errorInfo"]) == ("ValidationError", {"field": "token"})
    (error,) = gql(APPLY, {"input": {**ORDER, "checkoutToken": bad}, "key": "k-1"})["errors"]
    assert (error["errorType"], error["errorInfo"]) == ("ValidationError", {"field": "input.checkoutToken"})
    assert credit_service.calls == []


@pytest.mark.parametrize(
    "extra",
    [
        {"merchantId": "demo-shop"},
        {"orderReference": "SH-1"},
        {"amount": {"amount": 1000, "currency": "EUR"}},
    ],
)
def test_the_order_cannot_be_sent_with_the_application(gql, user_service, credit_service, api, extra) -> None:
    """The free-form order left the schema: a shopper who adds merchant, reference or amount is refused."""
    user_service.routes[("GET", "/v1/profile")] = (200, api.customer())
    credit_service.routes[("POST", "/v1/applications")] = (201, api.application("APPROVED"))
    body = gql(APPLY, {"input": {**ORDER, **extra}, "key": "k-2"})
    assert body.get("data") is None
    assert any(name in body["errors"][0]["message"] for name in extra), body
    assert credit_service.calls == []
