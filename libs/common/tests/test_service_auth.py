"""SigV4 + user token gate, exercised through a real FastAPI app and httpx."""

from typing import Annotated, Any

import pytest
from bnpl_common.app import install_common
from bnpl_common.jwt import CognitoJwtVerifier, Principal
from bnpl_common.service_auth import CALLER_ARN_HEADER, USER_TOKEN_HEADER, ServiceAuthenticator
from bnpl_common.settings import LOCAL_SIGV4_ACCESS_KEY_ID, LOCAL_SIGV4_SECRET
from bnpl_common.sigv4 import NONCE_HEADER, SigV4Auth
from bnpl_common.testing import TokenMinter, fake_aws_credentials
from botocore.credentials import Credentials
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient
from starlette.requests import Request


@pytest.fixture
def minter() -> TokenMinter:
    return TokenMinter()


@pytest.fixture
def client(minter: TokenMinter) -> TestClient:
    async def fetch() -> dict[str, Any]:
        return minter.jwks()

    verifier = CognitoJwtVerifier(issuer=minter.issuer, client_ids=[minter.client_id], fetch_jwks=fetch)
    gate = ServiceAuthenticator(
        secrets={LOCAL_SIGV4_ACCESS_KEY_ID: LOCAL_SIGV4_SECRET}, service="execute-api", verifier=verifier
    )
    app = FastAPI()
    install_common(app)

    @app.post("/v1/echo")
    async def echo(principal: Annotated[Principal, Depends(gate)], body: dict[str, Any]) -> dict[str, Any]:
        return {"sub": principal.sub, "body": body}

    return TestClient(app)


def signer(creds: Credentials | None = None, service: str = "execute-api") -> SigV4Auth:
    return SigV4Auth(creds or fake_aws_credentials(), region="us-east-1", service=service)


def test_signed_call_with_token_reaches_the_route(client: TestClient, minter: TokenMinter) -> None:
    token = minter.mint("user-1")
    r = client.post("/v1/echo?x=1&a=2", json={"a": 1}, headers={USER_TOKEN_HEADER: token}, auth=signer())
    assert r.status_code == 200, r.text
    assert r.json() == {"sub": "user-1", "body": {"a": 1}}


def test_unsigned_call_is_forbidden(client: TestClient, minter: TokenMinter) -> None:
    r = client.post("/v1/echo", json={}, headers={USER_TOKEN_HEADER: minter.mint()})
    assert r.status_code == 403
    assert r.json()["error"]["type"] == "AccessDeniedException"


def test_wrong_secret_is_forbidden(client: TestClient, minter: TokenMinter) -> None:
    bad = Credentials(LOCAL_SIGV4_ACCESS_KEY_ID, "not-the-secret")
    r = client.post("/v1/echo", json={}, headers={USER_TOKEN_HEADER: minter.mint()}, auth=signer(bad))
    assert r.status_code == 403


def test_unknown_key_id_is_forbidden(client: TestClient, minter: TokenMinter) -> None:
    r = client.post(
        "/v1/echo", json={}, headers={USER_TOKEN_HEADER: minter.mint()}, auth=signer(Credentials("AKIAOTHER", "x"))
    )
    assert r.status_code == 403


def test_other_service_scope_is_forbidden(client: TestClient, minter: TokenMinter) -> None:
    r = client.post("/v1/echo", json={}, headers={USER_TOKEN_HEADER: minter.mint()}, auth=signer(service="s3"))
    assert r.status_code == 403


def test_tampered_body_is_forbidden(client: TestClient, minter: TokenMinter) -> None:
    import httpx

    token = minter.mint()
    request = client.build_request("POST", "/v1/echo", json={"a": 1}, headers={USER_TOKEN_HEADER: token})
    signed = next(signer().auth_flow(request))
    tampered = httpx.Request("POST", signed.url, headers=signed.headers, content=b'{"a": 2}')
    tampered.headers["content-length"] = str(len(b'{"a": 2}'))
    assert client.send(tampered).status_code == 403


def test_swapped_user_token_is_forbidden(client: TestClient, minter: TokenMinter) -> None:
    """The user token is signed: a proxy cannot swap in another user's token."""
    request = client.build_request("POST", "/v1/echo", json={}, headers={USER_TOKEN_HEADER: minter.mint("a")})
    signed = next(signer().auth_flow(request))
    signed.headers[USER_TOKEN_HEADER] = minter.mint("b")
    assert client.send(signed).status_code == 403


def test_a_resent_signed_request_is_refused_and_not_run_again(client: TestClient, minter: TokenMinter) -> None:
    """Item 6 of the hardening issue: the same signed bytes, sent again within the skew window."""
    request = client.build_request("POST", "/v1/echo", json={"a": 1}, headers={USER_TOKEN_HEADER: minter.mint()})
    signed = next(signer().auth_flow(request))
    assert NONCE_HEADER.lower() in signed.headers["authorization"]  # inside the signature
    assert client.send(signed).status_code == 200
    replay = client.send(signed)
    assert replay.status_code == 403
    assert replay.json()["error"] == {
        "type": "AccessDeniedException",
        "message": "this signed request was already received (replay)",
    }


def test_each_signed_request_gets_its_own_nonce(client: TestClient, minter: TokenMinter) -> None:
    token = minter.mint()
    for _ in range(3):
        assert (
            client.post("/v1/echo", json={"a": 1}, headers={USER_TOKEN_HEADER: token}, auth=signer()).status_code == 200
        )


def test_a_changed_or_missing_nonce_is_refused(client: TestClient, minter: TokenMinter) -> None:
    request = client.build_request("POST", "/v1/echo", json={}, headers={USER_TOKEN_HEADER: minter.mint()})
    signed = next(signer().auth_flow(request))
    signed.headers[NONCE_HEADER] = "another-nonce-0000000000"  # a fresh nonce on old signed bytes
    assert client.send(signed).status_code == 403


def test_a_signature_that_does_not_cover_a_nonce_is_refused(client: TestClient, minter: TokenMinter) -> None:
    """Signed by botocore alone (no nonce): SigV4 is valid, but the call could be replayed."""
    from botocore.auth import SigV4Auth as BotoSigV4Auth
    from botocore.awsrequest import AWSRequest

    token = minter.mint()
    aws = AWSRequest(
        method="POST",
        url="http://testserver/v1/echo",
        data=b"{}",
        headers={"Content-Type": "application/json", USER_TOKEN_HEADER: token},
    )
    BotoSigV4Auth(fake_aws_credentials(), "execute-api", "us-east-1").add_auth(aws)
    r = client.post("/v1/echo", content=b"{}", headers=dict(aws.headers.items()))
    assert r.status_code == 403
    assert r.json()["error"]["message"] == "missing or malformed X-Bnpl-Nonce"


def test_signed_call_without_user_token_is_unauthorized(client: TestClient) -> None:
    r = client.post("/v1/echo", json={}, auth=signer())
    assert r.status_code == 401
    assert r.json()["error"]["type"] == "UnauthorizedException"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"token_use": "id"},
        {"client_id": "someone-else"},
        {"issuer": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"},
        {"expires_in": -10},
        {"omit": ["exp"]},
    ],
)
def test_bad_user_tokens_are_unauthorized(client: TestClient, minter: TokenMinter, kwargs: dict[str, Any]) -> None:
    r = client.post("/v1/echo", json={}, headers={USER_TOKEN_HEADER: minter.mint(**kwargs)}, auth=signer())
    assert r.status_code == 401, r.text


def test_token_of_another_key_is_unauthorized(client: TestClient) -> None:
    other = TokenMinter()
    r = client.post("/v1/echo", json={}, headers={USER_TOKEN_HEADER: other.mint()}, auth=signer())
    assert r.status_code == 401


def _gateway_app(principals: list[str], minter: TokenMinter) -> TestClient:
    async def fetch() -> dict[str, Any]:
        return minter.jwks()

    verifier = CognitoJwtVerifier(issuer=minter.issuer, client_ids=[minter.client_id], fetch_jwks=fetch)
    gate = ServiceAuthenticator(
        secrets={}, service="execute-api", verifier=verifier, mode="apigateway-iam", principals=principals
    )
    app = FastAPI()
    install_common(app)

    @app.get("/v1/whoami")
    async def whoami(principal: Annotated[Principal, Depends(gate)]) -> dict[str, Any]:
        return {"sub": principal.sub}

    return TestClient(app)


ROLE = "arn:aws:iam::123456789012:role/bnpl-dev-gateway-task"


@pytest.mark.parametrize(
    ("caller", "status"),
    [
        ("arn:aws:sts::123456789012:assumed-role/bnpl-dev-gateway-task/3f2a1c", 200),
        (ROLE, 200),
        ("arn:aws:sts::123456789012:assumed-role/bnpl-dev-other-task/3f2a1c", 403),
        ("arn:aws:sts::999999999999:assumed-role/bnpl-dev-gateway-task/3f2a1c", 403),
        ("", 403),
    ],
)
def test_api_gateway_mode_accepts_only_the_allowed_roles(minter: TokenMinter, caller: str, status: int) -> None:
    client = _gateway_app([ROLE], minter)
    headers = {USER_TOKEN_HEADER: minter.mint("u-1"), NONCE_HEADER: "nonce-of-the-call-0001"}
    if caller:
        headers[CALLER_ARN_HEADER] = caller
    r = client.get("/v1/whoami", headers=headers)
    assert r.status_code == status, r.text


def test_api_gateway_mode_still_needs_the_user_token(minter: TokenMinter) -> None:
    client = _gateway_app([ROLE], minter)
    r = client.get("/v1/whoami", headers={CALLER_ARN_HEADER: ROLE, NONCE_HEADER: "nonce-of-the-call-0002"})
    assert r.status_code == 401


def test_api_gateway_mode_refuses_a_replayed_nonce(minter: TokenMinter) -> None:
    client = _gateway_app([ROLE], minter)
    headers = {USER_TOKEN_HEADER: minter.mint("u-1"), CALLER_ARN_HEADER: ROLE, NONCE_HEADER: "nonce-of-the-call-0003"}
    assert client.get("/v1/whoami", headers=headers).status_code == 200
    again = client.get("/v1/whoami", headers=headers)
    assert again.status_code == 403
    assert "replay" in again.json()["error"]["message"]
    del headers[NONCE_HEADER]
    assert client.get("/v1/whoami", headers=headers).status_code == 403


def test_api_gateway_mode_needs_principals(minter: TokenMinter) -> None:
    with pytest.raises(ValueError):
        _gateway_app([], minter)


def _signature_app() -> TestClient:
    """A route that checks only the signature, as merchant-facing routes do (no user token)."""
    from datetime import UTC, datetime

    from bnpl_common.service_auth import verify_request_signature
    from fastapi import Request

    app = FastAPI()
    install_common(app)

    @app.post("/v1/signed/{name}")
    async def signed(request: Request, name: str) -> dict[str, Any]:
        caller = await verify_request_signature(
            request,
            secrets={LOCAL_SIGV4_ACCESS_KEY_ID: LOCAL_SIGV4_SECRET},
            service="execute-api",
            now=datetime.now(UTC),
            max_skew_seconds=300,
        )
        return {"key": caller.access_key_id, "service": caller.service, "name": name}

    return TestClient(app)


def test_verify_request_signature_returns_the_signer_for_an_encoded_path_and_query() -> None:
    client = _signature_app()
    r = client.post("/v1/signed/a%20b?q=x%2Fy&z=1", json={"a": 1}, auth=signer())
    assert r.status_code == 200, r.text
    assert r.json() == {"key": LOCAL_SIGV4_ACCESS_KEY_ID, "service": "execute-api", "name": "a b"}


def test_verify_request_signature_refuses_a_changed_query_or_an_unsigned_call() -> None:
    client = _signature_app()
    request = client.build_request("POST", "/v1/signed/n?q=1", json={})
    signed = next(signer().auth_flow(request))
    signed.url = signed.url.copy_with(query=b"q=2")
    assert client.send(signed).status_code == 403
    assert client.post("/v1/signed/n", json={}).status_code == 403


def test_from_settings_builds_the_gate_the_settings_describe(minter: TokenMinter) -> None:
    from bnpl_common.settings import CommonSettings

    async def fetch() -> dict[str, Any]:
        return minter.jwks()

    verifier = CognitoJwtVerifier(issuer=minter.issuer, client_ids=[minter.client_id], fetch_jwks=fetch)
    settings = CommonSettings(service_auth_mode="apigateway-iam", service_auth_principals=[ROLE])
    gate = ServiceAuthenticator.from_settings(settings, verifier=verifier)
    app = FastAPI()
    install_common(app)

    @app.get("/v1/whoami")
    async def whoami(principal: Annotated[Principal, Depends(gate)]) -> dict[str, Any]:
        return {"sub": principal.sub}

    client = TestClient(app)
    nonce = {NONCE_HEADER: "nonce-of-the-call-0004"}
    ok = client.get("/v1/whoami", headers={USER_TOKEN_HEADER: minter.mint("u-1"), CALLER_ARN_HEADER: ROLE, **nonce})
    assert ok.status_code == 200 and ok.json() == {"sub": "u-1"}
    assert client.get("/v1/whoami", headers={USER_TOKEN_HEADER: minter.mint("u-1"), **nonce}).status_code == 403


# -- the header is checked before the body is read (review finding L3) -----------------------


def _asgi_request(headers: dict[str, str], reads: list[str]) -> Request:
    async def receive() -> dict[str, Any]:
        reads.append("body")
        return {"type": "http.request", "body": b'{"a": 1}', "more_body": False}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/echo",
        "raw_path": b"/v1/echo",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    return Request(scope, receive)


def _signed_headers(creds: Credentials | None = None, service: str = "execute-api") -> dict[str, str]:
    import httpx

    request = httpx.Request("POST", "http://testserver/v1/echo", content=b'{"a": 1}', headers={"host": "testserver"})
    signed = next(signer(creds, service).auth_flow(request))
    return {"host": "testserver", **{k: v for k, v in signed.headers.items() if k.lower() != "content-length"}}


@pytest.mark.parametrize(
    "headers",
    [
        {"host": "testserver"},
        {"host": "testserver", "authorization": "Bearer something"},
        "unknown key",
        "other service",
        "stale date",
    ],
)
def test_a_bad_signature_header_is_refused_before_the_body_is_read(headers: dict[str, str] | str) -> None:
    import anyio
    from bnpl_common.errors import Forbidden
    from bnpl_common.service_auth import verify_request_signature

    if headers == "unknown key":
        headers = _signed_headers(Credentials("AKIAOTHER", "x"))
    elif headers == "other service":
        headers = _signed_headers(service="s3")
    elif headers == "stale date":
        headers = {**_signed_headers(), "x-amz-date": "20200101T000000Z"}
    reads: list[str] = []
    assert isinstance(headers, dict)
    request = _asgi_request(headers, reads)

    async def check() -> None:
        from datetime import UTC, datetime

        await verify_request_signature(
            request,
            secrets={LOCAL_SIGV4_ACCESS_KEY_ID: LOCAL_SIGV4_SECRET},
            service="execute-api",
            now=datetime.now(UTC),
        )

    with pytest.raises(Forbidden):
        anyio.run(check)
    assert reads == []  # refused on the headers alone


def test_a_good_signature_header_reads_and_checks_the_body() -> None:
    import anyio
    from bnpl_common.service_auth import verify_request_signature

    reads: list[str] = []
    request = _asgi_request(_signed_headers(), reads)

    async def check() -> str:
        from datetime import UTC, datetime

        signed = await verify_request_signature(
            request,
            secrets={LOCAL_SIGV4_ACCESS_KEY_ID: LOCAL_SIGV4_SECRET},
            service="execute-api",
            now=datetime.now(UTC),
        )
        return signed.access_key_id

    assert anyio.run(check) == LOCAL_SIGV4_ACCESS_KEY_ID and reads == ["body"]
