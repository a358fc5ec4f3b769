"""A signed call runs once (issue 17, item 6): the same signed request, resent within the
five-minute skew, is refused by the real services and changes nothing."""

from __future__ import annotations

import httpx
import pytest
from bnpl_common.service_auth import USER_TOKEN_HEADER
from bnpl_common.sigv4 import SigV4Auth
from bnpl_common.testing import fake_aws_credentials

from scripts.devstack import Stack
from tests.journey import CREATE_PROFILE, ME, good_profile

pytestmark = pytest.mark.e2e


def test_a_replayed_patch_does_not_undo_a_later_change(stack: Stack, new_shopper) -> None:
    shopper = new_shopper()
    shopper.ok(CREATE_PROFILE, {"input": good_profile()})
    signer = SigV4Auth(fake_aws_credentials(), region="us-east-1")
    with httpx.Client(base_url=stack.url("user"), timeout=30) as client:
        request = client.build_request(
            "PATCH", "/v1/profile", json={"familyName": "Byron"}, headers={USER_TOKEN_HEADER: shopper.token}
        )
        signed = next(signer.auth_flow(request))
        assert client.send(signed).status_code == 200
        later = client.patch(
            "/v1/profile", json={"familyName": "King"}, headers={USER_TOKEN_HEADER: shopper.token}, auth=signer
        )
        assert later.status_code == 200

        replay = client.send(signed)
        assert replay.status_code == 403, replay.text
        assert replay.json()["error"]["type"] == "AccessDeniedException"
    assert shopper.ok(ME)["me"]["familyName"] == "King"


def test_a_replayed_call_to_the_credit_service_is_refused(stack: Stack, new_shopper) -> None:
    shopper = new_shopper()
    signer = SigV4Auth(fake_aws_credentials(), region="us-east-1")
    with httpx.Client(base_url=stack.url("credit"), timeout=30) as client:
        request = client.build_request("GET", "/v1/applications", headers={USER_TOKEN_HEADER: shopper.token})
        signed = next(signer.auth_flow(request))
        assert client.send(signed).status_code == 200
        assert client.send(signed).status_code == 403
