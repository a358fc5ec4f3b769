"""The nonce cache: each nonce once per caller until it expires, bounded, never forgetting a live one."""

from __future__ import annotations

import pytest
from bnpl_common.errors import Forbidden
from bnpl_common.nonce import NonceCache, ReplayCacheFull

NONCE = "n" * 24


def test_a_nonce_is_accepted_once_per_caller() -> None:
    cache = NonceCache()
    cache.use("key-a", NONCE, expires_at=400, now=100)
    with pytest.raises(Forbidden, match="replay"):
        cache.use("key-a", NONCE, expires_at=400, now=101)
    cache.use("key-b", NONCE, expires_at=400, now=101)  # another caller's nonces are its own


def test_an_expired_nonce_is_forgotten() -> None:
    cache = NonceCache()
    cache.use("k", NONCE, expires_at=400, now=100)
    cache.use("k", "m" * 24, expires_at=700, now=399)
    cache.use("k", NONCE, expires_at=800, now=400)  # its signature has expired: no replay possible
    assert len(cache) == 2


def test_when_full_of_live_nonces_new_calls_are_refused_not_old_nonces_forgotten() -> None:
    cache = NonceCache(capacity=2)
    cache.use("k", "a" * 20, expires_at=400, now=100)
    cache.use("k", "b" * 20, expires_at=500, now=100)
    with pytest.raises(ReplayCacheFull) as refused:
        cache.use("k", "c" * 20, expires_at=500, now=200)
    assert refused.value.status_code == 503
    with pytest.raises(Forbidden):
        cache.use("k", "a" * 20, expires_at=400, now=200)
    cache.use("k", "c" * 20, expires_at=600, now=400)  # the first expired: room again


@pytest.mark.parametrize("nonce", [None, "", "short", "x" * 65, "has space in it 0000", "ünïcode-nonce-000000"])
def test_a_missing_or_malformed_nonce_is_refused(nonce: str | None) -> None:
    with pytest.raises(Forbidden, match="X-Bnpl-Nonce"):
        NonceCache().use("k", nonce, expires_at=400, now=100)
