"""The payment-method fields: which credit route each calls, and ids checked before a call."""

from collections.abc import Callable

START = """mutation S($u: String!) { startPaymentMethodSetup(returnUrl: $u) { setupId pageUrl clientSecret } }"""
COMPLETE = """mutation C($id: ID!) { completePaymentMethodSetup(setupId: $id) { type brand last4 expMonth expYear } }"""
METHOD = "query { paymentMethod { brand last4 expMonth expYear } }"
CARD = {"type": "card", "brand": "visa", "last4": "4242", "expMonth": 12, "expYear": 2034}


def test_a_setup_is_started_and_completed_through_the_credit_service(gql: Callable[..., dict], credit_service) -> None:
    credit_service.routes[("POST", "/v1/payment-method/setups")] = (
        201,
        {"setupId": "seti_1", "clientSecret": "seti_1_secret_x", "pageUrl": "http://127.0.0.1:8090/setup/seti_1"},
    )
    credit_service.routes[("POST", "/v1/payment-method/setups/seti_1/complete")] = (200, CARD)
    started = gql(START, {"u": "http://127.0.0.1:8000/checkout/"})["data"]["startPaymentMethodSetup"]
    assert started == {
        "setupId": "seti_1",
        "pageUrl": "http://127.0.0.1:8090/setup/seti_1",
        "clientSecret": "seti_1_secret_x",
    }
    assert credit_service.calls[0].body == {"returnUrl": "http://127.0.0.1:8000/checkout/", "method": "card"}
    assert gql(COMPLETE, {"id": "seti_1"})["data"]["completePaymentMethodSetup"] == CARD


def test_the_method_on_file_or_null(gql: Callable[..., dict], credit_service) -> None:
    credit_service.routes[("GET", "/v1/payment-method")] = (200, {"paymentMethod": None})
    assert gql(METHOD)["data"]["paymentMethod"] is None
    credit_service.routes[("GET", "/v1/payment-method")] = (200, {"paymentMethod": CARD})
    assert gql(METHOD)["data"]["paymentMethod"] == {"brand": "visa", "last4": "4242", "expMonth": 12, "expYear": 2034}


def test_a_setup_id_that_could_change_the_route_is_refused_before_any_call(
    gql: Callable[..., dict], credit_service
) -> None:
    for bad in ("../applications/x", "seti 1", "a" * 129):
        (error,) = gql(COMPLETE, {"id": bad})["errors"]
        assert (error["errorType"], error["errorInfo"]) == ("ValidationError", {"field": "setupId"})
    assert credit_service.calls == []
