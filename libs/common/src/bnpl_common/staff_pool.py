"""Access tokens of two user pools: shoppers' and, in AWS, the staff's own pool (TOTP MFA
required, groups ``operations`` and ``operations-risk``).

A token is sent to the verifier of the pool its (unverified) ``iss`` names; that verifier
checks everything again, the issuer included. With a staff pool configured, a staff-pool token
must carry a staff group, and a shopper-pool token's groups are dropped: nobody becomes staff by
being put in a group of the shoppers' pool.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

import httpx
import jwt

from bnpl_common.errors import Unauthorized
from bnpl_common.jwt import CognitoJwtVerifier, JwksFetcher, Principal, http_jwks_fetcher
from bnpl_common.settings import CommonSettings

STAFF_GROUPS = frozenset({"operations", "operations-risk"})


class TokenVerifier(Protocol):
    async def verify(self, token: str) -> Principal: ...


class TwoPoolVerifier:
    def __init__(self, shoppers: CognitoJwtVerifier, staff: CognitoJwtVerifier) -> None:
        self.shoppers = shoppers
        self.staff = staff

    async def verify(self, token: str) -> Principal:
        try:
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss") if token else None
        except jwt.PyJWTError as exc:
            raise Unauthorized("malformed token") from exc
        if issuer == self.staff.issuer:
            principal = await self.staff.verify(token)
            if not STAFF_GROUPS & set(principal.groups):
                raise Unauthorized("a staff-pool token without a staff group")
            return principal
        return replace(await self.shoppers.verify(token), groups=())


def user_token_verifier(
    settings: CommonSettings,
    shoppers: CognitoJwtVerifier,
    client: httpx.AsyncClient,
    *,
    fetch_staff_jwks: JwksFetcher | None = None,
) -> CognitoJwtVerifier | TwoPoolVerifier:
    """The shoppers' verifier alone, or both pools' when STAFF_COGNITO_USER_POOL_ID is set."""
    issuer, jwks_url = settings.staff_cognito_issuer, settings.staff_cognito_jwks_url
    if issuer is None or jwks_url is None:
        return shoppers
    if not settings.staff_cognito_client_ids:
        raise ValueError("STAFF_COGNITO_USER_POOL_ID needs STAFF_COGNITO_CLIENT_IDS (the operations console's client)")
    staff = CognitoJwtVerifier(
        issuer=issuer,
        client_ids=settings.staff_cognito_client_ids,
        fetch_jwks=fetch_staff_jwks or http_jwks_fetcher(client, jwks_url),
    )
    return TwoPoolVerifier(shoppers, staff)
