"""Every upstream call carries its own nonce inside the SigV4 signature, so a copy is refused."""

from bnpl_common.sigv4 import NONCE_HEADER


def test_each_upstream_call_signs_a_fresh_nonce(gql, user_service, api) -> None:
    user_service.routes[("GET", "/v1/profile")] = (200, api.customer())
    for _ in range(2):
        assert gql("{ me { id } }")["data"]["me"]["id"] == api.sub
    nonces = [call.headers[NONCE_HEADER] for call in user_service.calls]
    assert len(set(nonces)) == 2
    for call in user_service.calls:
        assert "x-bnpl-nonce" in call.headers["authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
