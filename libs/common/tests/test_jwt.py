"""Cognito access-token verification: algorithms, claims, JWKS caching and refetch limits."""

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest
from bnpl_common.errors import Unauthorized
from bnpl_common.jwt import CognitoJwtVerifier, bearer_token
from bnpl_common.testing import TokenMinter

T = TypeVar("T")


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def make(minters: list[TokenMinter], clock: FakeClock | None = None) -> CognitoJwtVerifier:
    async def fetch() -> dict[str, Any]:
        return {"keys": [k for m in minters for k in m.jwks()["keys"]]}

    return CognitoJwtVerifier(
        issuer=minters[0].issuer,
        client_ids=[minters[0].client_id],
        fetch_jwks=fetch,
        monotonic=clock or FakeClock(),
    )


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def test_valid_access_token_gives_its_principal() -> None:
    minter = TokenMinter()
    principal = run(make([minter]).verify(minter.mint("abc", extra={"cognito:groups": ["ops"]})))
    assert principal.sub == "abc" and principal.client_id == minter.client_id and principal.groups == ("ops",)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"token_use": "id"},
        {"client_id": "other"},
        {"issuer": "https://evil.example.com/pool"},
        {"expires_in": -1},
        {"omit": ["exp"]},
        {"omit": ["token_use"]},
        {"algorithm": "HS256"},
    ],
)
def test_bad_tokens_are_refused(kwargs: dict[str, Any]) -> None:
    minter = TokenMinter()
    with pytest.raises(Unauthorized):
        run(make([minter]).verify(minter.mint(**kwargs)))


def test_alg_none_is_refused() -> None:
    import jwt

    minter = TokenMinter()
    token = jwt.encode({"sub": "x", "iss": minter.issuer}, key="", algorithm="none", headers={"kid": minter.kid})
    with pytest.raises(Unauthorized):
        run(make([minter]).verify(token))


def test_unknown_kid_refetches_at_most_once_per_interval() -> None:
    clock = FakeClock()
    known = TokenMinter()
    rotated = TokenMinter(kid="rotated-key")
    keys = [known]
    verifier = make(keys, clock)

    async def scenario() -> None:
        await verifier.verify(known.mint())
        assert verifier.fetch_count == 1
        await verifier.verify(known.mint())  # cached
        assert verifier.fetch_count == 1
        with pytest.raises(Unauthorized):  # unknown kid inside the interval: no refetch
            await verifier.verify(rotated.mint())
        assert verifier.fetch_count == 1
        keys.append(rotated)  # the pool publishes a new key
        clock.t += 11
        await verifier.verify(rotated.mint())  # refetched once, now known
        assert verifier.fetch_count == 2
        for _ in range(5):
            with pytest.raises(Unauthorized):
                await verifier.verify(TokenMinter(kid="nobody").mint())
        assert verifier.fetch_count == 2

    run(scenario())


def test_unreachable_jwks_refuses_the_token() -> None:
    minter = TokenMinter()

    async def broken() -> dict[str, Any]:
        raise OSError("down")

    verifier = CognitoJwtVerifier(issuer=minter.issuer, client_ids=[minter.client_id], fetch_jwks=broken)
    with pytest.raises(Unauthorized):
        run(verifier.verify(minter.mint()))


def test_bearer_prefix_is_optional() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer  abc ") == "abc"
    assert bearer_token("abc") == "abc"
    assert bearer_token(None) == ""
