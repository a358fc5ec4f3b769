"""Our SigV4 (canonical request, kept signing keys) agrees with botocore's ``SigV4Auth`` on every
kind of request the services send and on awkward ones: what we sign botocore verifies, and what
botocore signs we verify (API Gateway's IAM authorization and our services must agree)."""

from __future__ import annotations

from datetime import UTC, datetime
from hashlib import sha256

import httpx
import pytest
from bnpl_common.errors import Forbidden
from bnpl_common.sigv4 import (
    NONCE_HEADER,
    SigV4Auth,
    canonical_request,
    signing_key,
    verify_sigv4,
)
from botocore.auth import SigV4Auth as BotoSigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

KEY, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
REGION, SERVICE = "eu-west-1", "execute-api"

URLS = [
    "http://127.0.0.1:8002/v1/applications",
    "http://credit.internal/v1/applications?limit=20&nextToken=abc%3D%3D",
    "http://credit.internal/v1/applications?b=2&a=1&a=0&c",
    "http://credit.internal/v1/plans/pl_1/payments/",
    "https://abc.execute-api.eu-west-1.amazonaws.com/prod/v1/profile",
    "http://credit.internal/v1/a%20b/caf%C3%A9?q=%E2%82%AC&x=y%2Fz",
    "http://credit.internal//v1//double/./dots/../profile",
    "http://credit.internal:8443/",
    "http://credit.internal",
]
BODIES = [b"", b"{}", '{"amount": {"amount": 1000, "currency": "EUR"}, "name": "Zoë"}'.encode()]


def our_signed(url: str, body: bytes, *, token: str | None = None) -> httpx.Request:
    request = httpx.Request(
        "POST",
        url,
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-User-Authorization": "eyJ  header.payload.sig  ",  # inner and outer spaces trimmed
            "Idempotency-Key": "order-1001",
            "X-Request-Id": "rid-1",
            "User-Agent": "not signed",
        },
    )
    return next(SigV4Auth(Credentials(KEY, SECRET, token), region=REGION, service=SERVICE).auth_flow(request))


def botocore_expected(request: httpx.Request) -> str:
    """botocore's signature over the headers our signer says it signed, at its time."""
    auth = request.headers["authorization"]
    signed_names = auth.split("SignedHeaders=")[1].split(",")[0].split(";")
    aws = AWSRequest(
        method=request.method,
        url=str(request.url),
        data=request.content,
        headers={name: request.headers[name] for name in signed_names},
    )
    aws.context["timestamp"] = request.headers["x-amz-date"]
    boto = BotoSigV4Auth(Credentials(KEY, SECRET), SERVICE, REGION)
    canonical = boto.canonical_request(aws)
    return str(boto.signature(boto.string_to_sign(aws, canonical), aws))


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("body", BODIES)
def test_botocore_computes_the_signature_we_send(url: str, body: bytes) -> None:
    request = our_signed(url, body)
    assert request.headers["authorization"].endswith(f"Signature={botocore_expected(request)}")
    assert (
        f"Credential={KEY}/{request.headers['x-amz-date'][:8]}/{REGION}/{SERVICE}/aws4_request"
        in (request.headers["authorization"])
    )


def test_a_session_token_is_sent_and_signed_as_botocore_does() -> None:
    request = our_signed(URLS[0], b"{}", token="session-token")
    assert request.headers["x-amz-security-token"] == "session-token"
    assert "x-amz-security-token" in request.headers["authorization"]
    assert request.headers["authorization"].endswith(f"Signature={botocore_expected(request)}")


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("body", BODIES)
def test_we_verify_what_botocore_signs_and_refuse_it_altered(url: str, body: bytes) -> None:
    headers = {
        "Content-Type": "application/json",
        "X-User-Authorization": "token",
        NONCE_HEADER: "n" * 24,
        "X-Amz-Content-SHA256": sha256(body).hexdigest(),
        "Host": httpx.URL(url).netloc.decode(),
    }
    aws = AWSRequest(method="POST", url=url, data=body, headers=headers)
    BotoSigV4Auth(Credentials(KEY, SECRET), SERVICE, REGION).add_auth(aws)
    signed = dict(aws.headers.items())
    caller = verify_sigv4(method="POST", url=url, headers=signed, body=body, secrets={KEY: SECRET}, service=SERVICE)
    assert (caller.access_key_id, caller.region) == (KEY, REGION)
    with pytest.raises(Forbidden, match=r"payload hash|signature does not match"):
        verify_sigv4(method="POST", url=url, headers=signed, body=body + b" ", secrets={KEY: SECRET}, service=SERVICE)


def test_excluded_headers_are_left_out_of_the_canonical_request_as_botocore_leaves_them() -> None:
    canonical, signed = canonical_request(
        "get", "http://h/p", {"host": "h", "user-agent": "x", "x-amz-date": "20260101T000000Z"}, "e3b0"
    )
    assert signed == "host;x-amz-date"
    assert canonical.startswith("GET\n/p\n\nhost:h\nx-amz-date:20260101T000000Z\n\n")


def test_the_signing_key_is_derived_once_per_day_and_scope() -> None:
    signing_key.cache_clear()
    day = datetime.now(UTC).strftime("%Y%m%d")
    for _ in range(3):
        our_signed(URLS[0], b"{}")
    info = signing_key.cache_info()
    assert info.misses == 1 and info.hits == 2
    assert signing_key(SECRET, day, REGION, SERVICE) == signing_key(SECRET, day, REGION, SERVICE)
    assert signing_key(SECRET, day, REGION, SERVICE) != signing_key(SECRET, day, REGION, "other")
