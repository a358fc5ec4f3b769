"""Two user pools: staff tokens from the staff pool (with a staff group), shoppers' from theirs."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from bnpl_common.errors import Unauthorized
from bnpl_common.jwt import CognitoJwtVerifier
from bnpl_common.settings import CommonSettings
from bnpl_common.staff_pool import TwoPoolVerifier, user_token_verifier
from bnpl_common.testing import TEST_CLIENT_ID, TokenMinter

STAFF_POOL = "us-east-1_StaffPool1"
STAFF_CLIENT = "staffclient00000000000001"


def _verifier(minter: TokenMinter) -> CognitoJwtVerifier:
    async def fetch() -> dict[str, Any]:
        return minter.jwks()

    return CognitoJwtVerifier(issuer=minter.issuer, client_ids=[minter.client_id], fetch_jwks=fetch)


def _both() -> tuple[TokenMinter, TokenMinter, TwoPoolVerifier]:
    shoppers = TokenMinter()
    staff = TokenMinter(pool_id=STAFF_POOL, client_id=STAFF_CLIENT)
    return shoppers, staff, TwoPoolVerifier(_verifier(shoppers), _verifier(staff))


def test_staff_tokens_come_from_the_staff_pool_with_a_staff_group() -> None:
    shoppers, staff, verifier = _both()
    reviewer = asyncio.run(verifier.verify(staff.mint(extra={"cognito:groups": ["operations"]})))
    assert reviewer.groups == ("operations",)
    with pytest.raises(Unauthorized):
        asyncio.run(verifier.verify(staff.mint()))  # a staff-pool user in no staff group
    # a shopper-pool user put in a group named like staff's is still a shopper
    shopper = asyncio.run(verifier.verify(shoppers.mint(extra={"cognito:groups": ["operations-risk"]})))
    assert shopper.groups == ()
    # a token claiming the staff issuer but signed by the shoppers' key fails the staff checks
    forged = shoppers.mint(issuer=staff.issuer, client_id=STAFF_CLIENT, extra={"cognito:groups": ["operations"]})
    with pytest.raises(Unauthorized):
        asyncio.run(verifier.verify(forged))


def test_without_a_staff_pool_the_shoppers_verifier_is_used_alone() -> None:
    shoppers = TokenMinter()
    plain = _verifier(shoppers)

    async def build(settings: CommonSettings) -> object:
        async with httpx.AsyncClient() as client:
            return user_token_verifier(settings, plain, client)

    assert asyncio.run(build(CommonSettings(bnpl_env="test", cognito_client_ids=[TEST_CLIENT_ID]))) is plain
    two = asyncio.run(
        build(
            CommonSettings(
                bnpl_env="test", staff_cognito_user_pool_id=STAFF_POOL, staff_cognito_client_ids=STAFF_CLIENT
            )
        )
    )
    assert isinstance(two, TwoPoolVerifier) and two.staff.issuer.endswith(STAFF_POOL)
    with pytest.raises(ValueError, match="STAFF_COGNITO_CLIENT_IDS"):
        asyncio.run(build(CommonSettings(bnpl_env="test", staff_cognito_user_pool_id=STAFF_POOL)))
