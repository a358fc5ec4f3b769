"""Fault tests of trust (hardening, standing suites): the token keys unreachable, and clocks that
disagree. Each asserts that nothing acknowledged is lost, that nothing moves money while it
cannot be checked, and that readiness tells the truth."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta
from typing import Any
from unittest import mock

import httpx
import pytest
from bnpl_common.service_auth import USER_TOKEN_HEADER
from bnpl_common.sigv4 import SigV4Auth
from bnpl_common.testing import fake_aws_credentials

from scripts.devstack import Stack
from tests.conftest import PASSWORD
from tests.journey import APPLICATION, APPLY, ME, good_profile, order, phone
from tests.test_e2e_journey import verified

pytestmark = pytest.mark.e2e


def _wait_for(url: str, status: int, timeout: float = 20.0) -> int:
    deadline = time.monotonic() + timeout
    last = 0
    while time.monotonic() < deadline:
        try:
            last = httpx.get(url, timeout=2).status_code
        except httpx.HTTPError:
            last = 0
        if last == status:
            return last
        time.sleep(0.2)
    return last


def test_jwks_unreachable_moves_no_money_loses_nothing_and_readiness_says_so(stack: Stack, new_shopper: Any) -> None:
    shopper = new_shopper()
    verified(shopper, stack, good_profile(phoneNumber=phone()))
    acknowledged = shopper.ok(APPLY, {"input": order(), "key": uuid.uuid4().hex})["applyForCredit"]
    assert stack.cognito is not None
    gateway = stack.services["gateway"]
    readyz = gateway.health_url
    # a token the gateway has not checked yet (a live answer is cached TOKEN_REVOCATION_CACHE_SECONDS)
    shopper.token = stack.cognito.access_token(shopper.email, PASSWORD)
    stack.cognito.process.stop()
    try:
        # the gateway still holds the pool's keys: reads go on, money does not move
        assert shopper.ok(ME)["me"]["id"] == shopper.sub
        error = shopper.error(APPLY, {"input": order(), "key": uuid.uuid4().hex})
        assert error["errorType"] == "DependencyFailed", error
        # a gateway that starts now has no keys and cannot fetch them: not ready, callers refused
        gateway.stop()
        gateway.health_url = readyz.replace("/readyz", "/livez")  # alive, and (we expect) not ready
        gateway.start()
        assert httpx.get(readyz).status_code == 503
        r = shopper.gql(ME)
        assert r.status_code == 401 and r.json()["errors"][0]["errorType"] == "UnauthorizedException"
    finally:
        stack.cognito.start()
        gateway.health_url = readyz
    assert _wait_for(readyz, 200) == 200  # the keys are fetched again once the JWKS answers
    shopper.token = stack.cognito.access_token(shopper.email, PASSWORD)
    kept = shopper.ok(APPLICATION, {"id": acknowledged["id"]})["application"]
    assert kept["status"] == acknowledged["status"] and kept["offer"] == acknowledged["offer"]
    assert shopper.ok(APPLY, {"input": order(), "key": uuid.uuid4().hex})["applyForCredit"]["status"]


def _skewed(skew: timedelta) -> Any:
    """The signer's clock moved by ``skew`` (bnpl_common.sigv4 reads ``datetime.now``)."""

    class Skewed(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return datetime.now(tz) + skew

    return mock.patch("bnpl_common.sigv4.datetime", Skewed)


def _signed_get(stack: Stack, token: str, skew: timedelta) -> httpx.Response:
    with _skewed(skew):
        return httpx.get(
            f"{stack.url('user')}/v1/profile",
            headers={USER_TOKEN_HEADER: token},
            auth=SigV4Auth(fake_aws_credentials(), region="us-east-1"),
        )


def test_a_signature_from_a_skewed_clock(stack: Stack, new_shopper: Any) -> None:
    shopper = new_shopper()
    verified(shopper, stack, good_profile(phoneNumber=phone()))
    # within the allowed skew (SIGV4_MAX_SKEW_SECONDS, 300 s) either way: accepted
    for minutes in (-4, 4):
        assert _signed_get(stack, shopper.token, timedelta(minutes=minutes)).status_code == 200
    # beyond it, from the past or the future: refused before anything is read or done
    for minutes in (-10, 10):
        r = _signed_get(stack, shopper.token, timedelta(minutes=minutes))
        assert r.status_code == 403, r.text
    with _skewed(timedelta(minutes=10)):
        r = httpx.patch(
            f"{stack.url('user')}/v1/profile",
            json={"givenName": "Skewed"},
            headers={USER_TOKEN_HEADER: shopper.token},
            auth=SigV4Auth(fake_aws_credentials(), region="us-east-1"),
        )
    assert r.status_code == 403
    assert shopper.ok(ME)["me"]["givenName"] == "Alba"  # nothing changed
    assert httpx.get(f"{stack.url('user')}/readyz").status_code == 200
