"""Cognito access-token verification: algorithms, claims, JWKS caching and refetch limits."""

import asyncio
import time
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


def _counting(verifier: CognitoJwtVerifier) -> list[str]:
    """The tokens whose signature and claims are checked (not answered from the cache)."""
    checked: list[str] = []
    inner = verifier._verify

    async def counted(token: str) -> Any:
        checked.append(token)
        return await inner(token)

    verifier._verify = counted  # type: ignore[method-assign] - count the full checks
    return checked


def test_a_verified_token_is_answered_from_memory_until_its_expiry() -> None:
    minter, clock = TokenMinter(), FakeClock()
    verifier = make([minter], clock)
    checked = _counting(verifier)
    token = minter.mint("abc", expires_in=1)

    async def three() -> list[str]:
        return [(await verifier.verify(token)).sub for _ in range(3)]

    assert run(three()) == ["abc"] * 3 and len(checked) == 1
    # past the token's exp, the kept answer is not honoured: the full check runs and refuses it
    time.sleep(2.1)
    with pytest.raises(Unauthorized, match="expired"):
        run(verifier.verify(token))
    assert len(checked) == 2


def test_a_kept_answer_is_checked_again_after_the_cache_window() -> None:
    """A signing key withdrawn from the JWKS stops being honoured within ``cache_seconds``."""
    minter, clock = TokenMinter(), FakeClock()
    keys = [minter]

    async def fetch() -> dict[str, Any]:
        return {"keys": [k for m in keys for k in m.jwks()["keys"]]}

    verifier = CognitoJwtVerifier(
        issuer=minter.issuer, client_ids=[minter.client_id], fetch_jwks=fetch, monotonic=clock, cache_seconds=300
    )
    token = minter.mint("abc", expires_in=3600)
    assert run(verifier.verify(token)).sub == "abc"
    keys.clear()  # the key is withdrawn
    verifier._keys.clear()  # and the next fetch (allowed by the refetch interval) sees it gone
    clock.t += 299
    assert run(verifier.verify(token)).sub == "abc"  # still within the window
    clock.t += 2
    with pytest.raises(Unauthorized):
        run(verifier.verify(token))


def test_refusals_are_not_kept() -> None:
    minter = TokenMinter()
    verifier = make([minter])
    checked = _counting(verifier)
    bad = minter.mint("abc", token_use="id")
    for _ in range(2):
        with pytest.raises(Unauthorized):
            run(verifier.verify(bad))
    assert len(checked) == 2
