"""The local Cognito pass-through (``COGNITO_PROXY``): the checkout page's own Cognito calls,
through the gateway, against a real moto server; everything else refused before it leaves."""

import json
import re
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import boto3
import httpx
import jwt
import pytest
from bnpl_common.testing import TEST_POOL_ID
from bnpl_gateway.settings import Settings
from bnpl_gateway.web import (
    COGNITO_PROXY_OPERATIONS,
    COGNITO_PROXY_REFUSED_PAGE_OPERATIONS,
    DEFAULT_WEB_DIR,
    canonical_cognito_body,
)
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.exceptions import ClientError
from fastapi.testclient import TestClient
from moto.server import ThreadedMotoServer
from pydantic import ValidationError

PASSWORD = "Passw0rd-local"
JSON_11 = "application/x-amz-json-1.1"


@dataclass(frozen=True)
class Moto:
    endpoint: str
    pool_id: str
    client_id: str

    def idp(self) -> Any:
        return boto3.client(
            "cognito-idp",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def usernames(self) -> set[str]:
        users = self.idp().list_users(UserPoolId=self.pool_id)["Users"]
        return {attr["Value"] for user in users for attr in user["Attributes"] if attr["Name"] == "email"} | {
            user["Username"] for user in users
        }

    def pool_names(self) -> set[str]:
        return {pool["Name"] for pool in self.idp().list_user_pools(MaxResults=60)["UserPools"]}


@pytest.fixture(scope="module")
def moto() -> Iterator[Moto]:
    """A real moto server with a pool and app client set up as `make run` and compose do."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    idp = Moto(endpoint, "", "").idp()
    pool_id = idp.create_user_pool(
        PoolName=f"bnpl-proxy-{uuid.uuid4().hex[:6]}",
        UsernameAttributes=["email"],
        AutoVerifiedAttributes=["email"],
        Policies={"PasswordPolicy": {"MinimumLength": 8, "RequireUppercase": True, "RequireNumbers": True}},
    )["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="bnpl-checkout",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        GenerateSecret=False,
    )["UserPoolClient"]["ClientId"]
    yield Moto(endpoint, pool_id, client_id)
    server.stop()


class RecordingTransport(httpx.AsyncBaseTransport):
    """The real network, with a record of every request the gateway sent out."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.sent: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return await self.inner.handle_async_request(request)


class _Raw:
    """The one method botocore's AWSResponse reads of a raw urllib3 response."""

    def __init__(self, content: bytes) -> None:
        self.content = content

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.content


@pytest.fixture
def outbound() -> RecordingTransport:
    return RecordingTransport()


@pytest.fixture
def proxied(build_gateway: Callable[..., TestClient], moto: Moto, outbound: RecordingTransport) -> TestClient:
    return build_gateway(
        transport=outbound,
        bnpl_env="local",
        cognito_proxy=True,
        cognito_endpoint=moto.endpoint,
        cognito_client_ids=[moto.client_id],
    )


def page_call(gateway: TestClient, operation: str, body: dict[str, Any]) -> httpx.Response:
    """What web/checkout/cognito.js sends, to the endpoint /config.json gives it."""
    endpoint = gateway.get("/config.json").json()["cognito"]["endpoint"]
    return gateway.post(
        endpoint,
        content=json.dumps(body),
        headers={"Content-Type": JSON_11, "X-Amz-Target": f"AWSCognitoIdentityProviderService.{operation}"},
    )


def test_the_page_signs_up_confirms_and_signs_in_through_the_gateway(proxied: TestClient, moto: Moto) -> None:
    config = proxied.get("/config.json").json()
    assert config["cognito"] == {
        "region": "us-east-1",
        "endpoint": "http://testserver/cognito/",
        "clientId": moto.client_id,
        "userPoolId": TEST_POOL_ID,
        "authFlow": "USER_PASSWORD_AUTH",  # the pass-through forwards no SRP answer
    }
    email = f"ana-{uuid.uuid4().hex[:8]}@example.com"
    client = {"ClientId": moto.client_id}

    signed_up = page_call(
        proxied,
        "SignUp",
        {**client, "Username": email, "Password": PASSWORD, "UserAttributes": [{"Name": "email", "Value": email}]},
    )
    assert signed_up.status_code == 200, signed_up.text
    assert signed_up.headers["cache-control"] == "no-store"
    sub = signed_up.json()["UserSub"]

    # Forwarded; moto 5.2 does not implement it and says so with a 500, passed back as it is.
    resent = page_call(proxied, "ResendConfirmationCode", {**client, "Username": email})
    assert resent.status_code in (200, 500)  # not the pass-through's 400 refusal
    confirmed = page_call(proxied, "ConfirmSignUp", {**client, "Username": email, "ConfirmationCode": "123456"})
    assert confirmed.status_code == 200, confirmed.text

    signed_in = page_call(
        proxied,
        "InitiateAuth",
        {**client, "AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": {"USERNAME": email, "PASSWORD": PASSWORD}},
    )
    assert signed_in.status_code == 200, signed_in.text
    claims = jwt.decode(signed_in.json()["AuthenticationResult"]["AccessToken"], options={"verify_signature": False})
    assert (claims["sub"], claims["client_id"], claims["token_use"]) == (sub, moto.client_id, "access")

    # Cognito's errors come back as they are: status, __type and message for the page to show.
    wrong = page_call(
        proxied,
        "InitiateAuth",
        {**client, "AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": {"USERNAME": email, "PASSWORD": "Wr0ngpass"}},
    )
    assert wrong.status_code == 400
    assert wrong.json()["__type"].endswith("NotAuthorizedException")


def test_a_boto3_client_works_through_the_pass_through_and_reads_the_refusal(proxied: TestClient, moto: Moto) -> None:
    """The same JSON API for SDKs: point endpoint_url at the gateway."""

    def send(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        """Hand botocore's request to the in-process gateway instead of the network."""
        response = proxied.post(request.url, content=request.body, headers=dict(request.headers))
        return AWSResponse(request.url, response.status_code, dict(response.headers), _Raw(response.content))

    idp = boto3.client(
        "cognito-idp",
        endpoint_url="http://testserver/cognito/",
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    idp.meta.events.register_first("before-send.cognito-idp.*", send)
    email = f"sdk-{uuid.uuid4().hex[:8]}@example.com"
    assert idp.sign_up(ClientId=moto.client_id, Username=email, Password=PASSWORD)["UserSub"]
    with pytest.raises(ClientError) as refused:
        idp.admin_confirm_sign_up(UserPoolId=moto.pool_id, Username=email)
    assert refused.value.response["Error"]["Code"] == "UnsupportedOperationException"
    assert "AdminConfirmSignUp" in refused.value.response["Error"]["Message"]
    status = moto.idp().admin_get_user(UserPoolId=moto.pool_id, Username=email)["UserStatus"]
    assert status == "UNCONFIRMED"


@pytest.mark.parametrize(
    "target",
    [
        "AWSCognitoIdentityProviderService.AdminCreateUser",
        "AWSCognitoIdentityProviderService.AdminInitiateAuth",
        "AWSCognitoIdentityProviderService.AdminSetUserPassword",
        "AWSCognitoIdentityProviderService.CreateUserPool",
        "AWSCognitoIdentityProviderService.DeleteUserPool",
        "AWSCognitoIdentityProviderService.ListUsers",
        "AWSCognitoIdentityProviderService.RespondToAuthChallenge",  # moto accepts any SRP proof
        "AWSCognitoIdentityProviderService.signUp",  # names are exact
        "DynamoDB_20120810.ListTables",
        "",
    ],
)
def test_any_other_operation_is_refused_and_never_reaches_cognito(
    proxied: TestClient, moto: Moto, outbound: RecordingTransport, target: str
) -> None:
    pools = moto.pool_names()
    body = {"UserPoolId": moto.pool_id, "Username": "intruder@example.com", "PoolName": "intruder", "MaxResults": 5}
    response = proxied.post(
        "/cognito/", content=json.dumps(body), headers={"Content-Type": JSON_11, "X-Amz-Target": target}
    )
    assert response.status_code == 400
    error = response.json()
    assert error["__type"] == "UnsupportedOperationException"
    assert (
        "forwards only the checkout page's calls (ConfirmSignUp, InitiateAuth, ResendConfirmationCode, SignUp)"
        in (error["message"])
    )
    assert outbound.sent == []
    assert "intruder@example.com" not in moto.usernames()
    assert moto.pool_names() == pools


def test_an_action_smuggled_into_the_body_does_not_run(proxied: TestClient, moto: Moto) -> None:
    """moto takes a form-style ``Action=`` from any body over X-Amz-Target: the body is re-encoded."""
    body = {"ClientId": "x&Action=AdminCreateUser&y=", "UserPoolId": moto.pool_id, "Username": "smuggled@example.com"}
    response = proxied.post(
        "/cognito/",
        content=json.dumps(body),
        headers={"Content-Type": JSON_11, "X-Amz-Target": "AWSCognitoIdentityProviderService.SignUp"},
    )
    assert response.status_code == 400  # SignUp with an unknown client
    assert "smuggled@example.com" not in moto.usernames()


def test_the_forwarded_body_is_the_same_json_with_nothing_to_split_on() -> None:
    original = {"ClientId": "a&Action=AdminCreateUser&b=c", "Password": "p=w&d", "Name": "Zoë"}
    body = canonical_cognito_body(json.dumps(original).encode())
    assert body is not None
    assert json.loads(body) == original
    assert b"&" not in body and b"=" not in body
    assert "Action" not in dict(parse_qsl(body.decode(), keep_blank_values=True))
    assert canonical_cognito_body(b"[1, 2]") is None
    assert canonical_cognito_body(b"Action=AdminCreateUser") is None
    assert canonical_cognito_body(b"\xff") is None


@pytest.mark.parametrize(
    ("content_type", "body", "status", "error_type"),
    [
        ("application/x-www-form-urlencoded", "Action=AdminCreateUser", 400, "SerializationException"),
        (JSON_11, "not json", 400, "SerializationException"),
        (JSON_11, json.dumps({"Padding": "x" * 20_000}), 413, "InvalidParameterException"),
    ],
)
def test_bodies_that_are_not_a_small_json_object_are_refused(
    proxied: TestClient, outbound: RecordingTransport, content_type: str, body: str, status: int, error_type: str
) -> None:
    response = proxied.post(
        "/cognito/",
        content=body,
        headers={"Content-Type": content_type, "X-Amz-Target": "AWSCognitoIdentityProviderService.SignUp"},
    )
    assert (response.status_code, response.json()["__type"]) == (status, error_type)
    assert outbound.sent == []


def test_an_unreachable_local_cognito_is_a_502_and_no_body_is_logged(
    build_gateway: Callable[..., TestClient], outbound: RecordingTransport, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    gateway = build_gateway(
        transport=outbound, bnpl_env="local", cognito_proxy=True, cognito_endpoint=f"http://127.0.0.1:{closed_port}"
    )
    response = page_call(gateway, "InitiateAuth", {"AuthParameters": {"PASSWORD": "Secret-Passw0rd"}})
    assert response.status_code == 502
    assert response.json()["__type"] == "ServiceUnavailableException"
    assert len(outbound.sent) == 1
    assert "Secret-Passw0rd" not in caplog.text


def test_the_page_needs_no_other_origin_with_the_pass_through(proxied: TestClient) -> None:
    csp = dict(
        part.strip().split(" ", 1) for part in proxied.get("/checkout/").headers["content-security-policy"].split(";")
    )
    assert csp["connect-src"] == "'self'"


def test_off_by_default_and_refused_in_aws(build_gateway: Callable[..., TestClient]) -> None:
    gateway = build_gateway(cognito_endpoint="http://127.0.0.1:9229")
    headers = {"Content-Type": JSON_11, "X-Amz-Target": "AWSCognitoIdentityProviderService.SignUp"}
    assert gateway.post("/cognito/", content="{}", headers=headers).status_code in (404, 405)
    assert gateway.get("/config.json").json()["cognito"]["endpoint"] == "http://127.0.0.1:9229"
    aws = {"bnpl_env": "aws", "service_signing": "aws", "service_auth_keys": {"K": "real-secret"}}
    with pytest.raises(ValidationError, match="refused with BNPL_ENV=aws"):
        Settings(**aws, cognito_proxy=True, cognito_endpoint="http://cognito:5000")
    assert Settings(**aws).cognito_proxy_enabled is False


def test_the_setting_needs_a_local_cognito_and_excludes_a_public_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="needs COGNITO_ENDPOINT"):
        Settings(bnpl_env="local", cognito_proxy=True)
    with pytest.raises(ValidationError, match="not both"):
        Settings(cognito_proxy=True, cognito_endpoint="http://c:5000", cognito_public_endpoint="http://localhost:5000")
    monkeypatch.setenv("COGNITO_PROXY", "true")
    monkeypatch.setenv("COGNITO_ENDPOINT", "http://cognito:5000")
    assert Settings().cognito_proxy_enabled is True


def test_the_allowed_operations_are_the_ones_the_page_calls() -> None:
    """All of them but the SRP answer, which the settings keep away from the pass-through."""
    source = (DEFAULT_WEB_DIR / "checkout" / "cognito.js").read_text()
    calls = set(re.findall(r'this\.call\("(\w+)"', source))
    assert calls == COGNITO_PROXY_OPERATIONS | COGNITO_PROXY_REFUSED_PAGE_OPERATIONS
    assert not COGNITO_PROXY_OPERATIONS & COGNITO_PROXY_REFUSED_PAGE_OPERATIONS
