"""Bad input gets a clear error naming the field, and nothing is stored."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from scripts.devstack import Stack
from tests.journey import APPLICATIONS, APPLY, CREATE_PROFILE, ME, good_profile, merchants, order
from tests.test_e2e_journey import verified

pytestmark = pytest.mark.e2e


def _eighteen_tomorrow() -> str:
    today = date.today()
    try:
        birthday = today.replace(year=today.year - 18) + timedelta(days=1)
    except ValueError:  # 29 February
        birthday = date(today.year - 18, 3, 1)
    return birthday.isoformat()


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"phoneNumber": "0044 77 0090"}, "input.phoneNumber"),
        ({"dateOfBirth": (date.today() + timedelta(days=3)).isoformat()}, "input.dateOfBirth"),
        ({"dateOfBirth": _eighteen_tomorrow()}, "input.dateOfBirth"),
        ({"monthlyIncome": {"amount": -1, "currency": "EUR"}}, "input.monthlyIncome.amount"),
        ({"monthlyIncome": {"amount": 100, "currency": "XYZ"}}, "input.monthlyIncome.currency"),
    ],
)
def test_bad_profiles_are_refused_naming_the_field(stack: Stack, new_shopper, override: dict, field: str) -> None:
    shopper = new_shopper()
    err = shopper.error(CREATE_PROFILE, {"input": good_profile(**override)})
    assert err["errorType"] == "ValidationError", err
    assert err["errorInfo"]["field"] == field, err
    assert "stack" not in str(err).lower() and "traceback" not in str(err).lower()
    assert shopper.ok(ME)["me"] is None


@pytest.mark.parametrize(
    ("amount", "currency", "field"),
    [
        (0, "EUR", "amount.amount"),
        (-500, "EUR", "amount.amount"),
        (5_000, "XYZ", "amount.currency"),
        (10_000_000, "EUR", "amount.amount"),
    ],
)
def test_bad_orders_are_refused_to_the_merchant_naming_the_field(
    stack: Stack, amount: int, currency: str, field: str
) -> None:
    """The order is the merchant's: its server is told, before any shopper sees a checkout."""
    money = {"amount": amount, "currency": currency}
    body = {
        "orderReference": f"bad-{uuid.uuid4().hex[:8]}",
        "amount": money,
        "items": [{"name": "Lamp", "quantity": 1, "unitPrice": money}],
        "returnUrl": f"{merchants().origin('demo-shop')}/return",
        "cancelUrl": f"{merchants().origin('demo-shop')}/cancel",
    }
    response = merchants().client("demo-shop").create_checkout(body)
    assert 400 <= response.status_code < 500, response.text
    error = response.json()["error"]
    assert error["field"].startswith(field.split(".")[0]), error
    assert "traceback" not in response.text.lower()


def test_graphql_type_errors_are_validation_errors(stack: Stack, new_shopper) -> None:
    shopper = new_shopper()
    verified(shopper, stack, good_profile())
    for bad in ({**order(), "planType": "PAY_IN_5"}, {**order(), "checkoutToken": 42}):
        err = shopper.error(APPLY, {"input": bad, "key": uuid.uuid4().hex})
        assert err["errorType"] in {"ValidationError", "BadRequest"}, err
    assert shopper.ok(APPLICATIONS)["applications"]["items"] == []
