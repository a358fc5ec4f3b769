"""The checkout page's SRP sign-in (web/checkout/srp.js) in Chromium.

The local Cognito (moto) does not verify SRP: it answers any PASSWORD_VERIFIER signature with
tokens. So the math is proven here without it: the module, run in the browser on fixed inputs,
must give the same A, derived key and signature, byte for byte, as pycognito (a maintained
Python implementation of Cognito's SRP) and as the server's side of SRP computed from the
password verifier. The end-to-end test then shows the page speaking the flow to a Cognito API.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import mimetypes
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from bnpl_common.testing import ServiceProcess, free_port
from pycognito.aws_srp import AWSSRP, N_HEX, compute_hkdf, hex_hash, hex_to_long, pad_hex

from scripts.devstack import ROOT, Stack
from tests.browser.conftest import PASSWORD, Shopper
from tests.journey import checkout

CHECKOUT_DIR = ROOT / "services" / "gateway" / "web" / "checkout"
ORIGIN = "https://srp.test"  # fulfilled by Playwright from the checkout directory: no server
POOL_ID = "eu-west-1_AbCdEf123"
USER_ID_FOR_SRP = "6f1c2a8e-93b4-4d57-a1e0-5c3f0b7d2e91"  # Cognito's internal user name (the sub)
PASSWORD_UNDER_TEST = "Corr3ct-horse-battery-stäple"  # non-ASCII: the identity hash is over UTF-8
PRIVATE_A = bytes(range(7, 7 + 128))  # the 128 random bytes the client would draw
SERVER_B_PRIVATE = int.from_bytes(hashlib.sha512(b"server b").digest() * 2, "big")
REAL_SECRET_BLOCK = base64.b64encode(hashlib.sha512(b"secret block").digest() * 3).decode()
MOTO_SECRET_BLOCK = "0b6b2c4e-0f6a-4b9e-9d1c-7e8f2a3b4c5d"  # moto sends a UUID (Python skips the hyphens)
WHEN = dt.datetime(2026, 11, 1, 6, 5, 9, tzinfo=dt.UTC)  # the day unpadded (1), the hour padded (06)
N = hex_to_long(N_HEX)
G = 2

pytestmark = [pytest.mark.browser]


class FixedClockSRP(AWSSRP):
    """pycognito's client with its clock fixed at WHEN (it reads utcnow() inside process_challenge)."""

    @staticmethod
    def get_cognito_formatted_timestamp(input_datetime: dt.datetime) -> str:
        return str(AWSSRP.get_cognito_formatted_timestamp(WHEN))


def _pycognito(salt_hex: str, srp_b_hex: str, secret_block: str) -> dict[str, Any]:
    # client=object(): no boto3 client is built and nothing is called.
    srp = FixedClockSRP("shopper@example.com", PASSWORD_UNDER_TEST, POOL_ID, "client", client=object())
    srp.small_a_value = int.from_bytes(PRIVATE_A, "big") % srp.big_n
    srp.large_a_value = srp.calculate_a()
    challenge = {"USER_ID_FOR_SRP": USER_ID_FOR_SRP, "SALT": salt_hex, "SRP_B": srp_b_hex, "SECRET_BLOCK": secret_block}
    responses = srp.process_challenge({**challenge, "USERNAME": USER_ID_FOR_SRP}, {"USERNAME": "shopper@example.com"})
    key = srp.get_password_authentication_key(USER_ID_FOR_SRP, PASSWORD_UNDER_TEST, hex_to_long(srp_b_hex), salt_hex)
    return {"srpA": srp.get_auth_params()["SRP_A"], "key": key.hex(), "responses": responses, "A": srp.large_a_value}


def _server(salt_hex: str) -> tuple[int, Any]:
    """Cognito's side: the verifier v = g^x kept at sign-up, B = k v + g^b, and the key from A."""
    pool_name = POOL_ID.split("_")[1]
    identity = hashlib.sha256(f"{pool_name}{USER_ID_FOR_SRP}:{PASSWORD_UNDER_TEST}".encode()).hexdigest()
    x = hex_to_long(hex_hash(pad_hex(salt_hex) + identity))
    v = pow(G, x, N)
    k = hex_to_long(hex_hash("00" + N_HEX + "02"))
    b = SERVER_B_PRIVATE % N
    big_b = (k * v + pow(G, b, N)) % N

    def key_for(big_a: int) -> bytes:
        u = hex_to_long(hex_hash(pad_hex(big_a) + pad_hex(big_b)))
        s = pow(big_a * pow(v, u, N), b, N)
        return bytes(compute_hkdf(bytearray.fromhex(pad_hex(s)), bytearray.fromhex(pad_hex(u))))

    return big_b, key_for


@pytest.fixture
def srp_page(chromium: Any) -> Iterator[Any]:
    """A blank page at ORIGIN (a secure context, so WebCrypto is there) that can import srp.js."""
    context = chromium.new_context()

    def serve(route: Any) -> None:
        path = route.request.url.removeprefix(ORIGIN).split("?")[0]
        if path == "/":
            route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>srp</title>")
            return
        file = CHECKOUT_DIR / path.removeprefix("/checkout/")
        if not path.startswith("/checkout/") or not file.is_file():
            route.fulfill(status=404, body="")
            return
        kind = mimetypes.guess_type(file.name)[0] or "text/javascript"
        route.fulfill(status=200, content_type=kind, body=file.read_bytes())

    context.route(f"{ORIGIN}/**", serve)
    page = context.new_page()
    page.goto(f"{ORIGIN}/")
    try:
        yield page
    finally:
        context.close()


BROWSER_SRP = """async ({ random, userPoolId, password, challenge, when }) => {
  const srp = await import("/checkout/srp.js");
  const bytes = Uint8Array.from(random);
  const ephemeral = srp.newEphemeral(bytes);
  const { key, responses } = await srp.passwordVerifier({
    userPoolId, password, ephemeral, challenge, now: new Date(when),
  });
  return { srpA: ephemeral.srpA, key, responses };
}"""


@pytest.mark.parametrize(
    ("salt_hex", "secret_block"),
    [
        ("0e7f6c95d1a3b8e24c5f90ad17b3e6c8", REAL_SECRET_BLOCK),  # a leading 0 nibble: hashed as is
        ("f3a9c0d17e25b6489a0cd3e7f1b52a64", MOTO_SECRET_BLOCK),  # top bit set: hashed with 00 before it
    ],
)
def test_the_module_computes_what_pycognito_and_the_server_compute(
    srp_page: Any, salt_hex: str, secret_block: str
) -> None:
    big_b, server_key_for = _server(salt_hex)
    srp_b_hex = f"{big_b:x}"
    expected = _pycognito(salt_hex, srp_b_hex, secret_block)
    challenge = {
        "USERNAME": USER_ID_FOR_SRP,
        "USER_ID_FOR_SRP": USER_ID_FOR_SRP,
        "SALT": salt_hex,
        "SRP_B": srp_b_hex,
        "SECRET_BLOCK": secret_block,
    }
    got = srp_page.evaluate(
        BROWSER_SRP,
        {
            "random": list(PRIVATE_A),
            "userPoolId": POOL_ID,
            "password": PASSWORD_UNDER_TEST,
            "challenge": challenge,
            "when": WHEN.isoformat(),
        },
    )

    assert got["srpA"] == expected["srpA"]
    assert got["key"] == expected["key"]
    assert got["responses"] == expected["responses"]
    # Both clients agree with the server: the key is the one a user pool derives from the verifier.
    assert bytes.fromhex(got["key"]) == server_key_for(expected["A"])
    # and the signature is the HMAC the server checks, over the decoded secret block.
    pool_name = POOL_ID.split("_")[1]
    timestamp = b"Sun Nov 1 06:05:09 UTC 2026"
    message = pool_name.encode() + USER_ID_FOR_SRP.encode() + base64.b64decode(secret_block) + timestamp
    signature = hmac.new(server_key_for(expected["A"]), message, hashlib.sha256).digest()
    assert got["responses"]["PASSWORD_CLAIM_SIGNATURE"] == base64.b64encode(signature).decode()
    assert got["responses"]["TIMESTAMP"] == "Sun Nov 1 06:05:09 UTC 2026"


def test_a_wrong_password_gives_a_key_the_server_does_not_derive(srp_page: Any) -> None:
    """The check above could not pass by accident: one wrong character changes the key."""
    salt_hex = "0e7f6c95d1a3b8e24c5f90ad17b3e6c8"
    big_b, server_key_for = _server(salt_hex)
    challenge = {
        "USER_ID_FOR_SRP": USER_ID_FOR_SRP,
        "SALT": salt_hex,
        "SRP_B": f"{big_b:x}",
        "SECRET_BLOCK": REAL_SECRET_BLOCK,
    }
    got = srp_page.evaluate(
        BROWSER_SRP,
        {
            "random": list(PRIVATE_A),
            "userPoolId": POOL_ID,
            "password": PASSWORD_UNDER_TEST + "!",
            "challenge": challenge,
            "when": WHEN.isoformat(),
        },
    )
    big_a = int(got["srpA"], 16)
    assert bytes.fromhex(got["key"]) != server_key_for(big_a)


@pytest.mark.parametrize(
    "when",
    [
        dt.datetime(2026, 11, 29, 16, 30, 0, tzinfo=dt.UTC),
        dt.datetime(2027, 1, 3, 0, 0, 7, tzinfo=dt.UTC),
        dt.datetime(2028, 2, 29, 23, 59, 59, tzinfo=dt.UTC),
    ],
)
def test_the_timestamp_is_cognitos_format(srp_page: Any, when: dt.datetime) -> None:
    got = srp_page.evaluate(
        """async (iso) => (await import("/checkout/srp.js")).cognitoTimestamp(new Date(iso))""", when.isoformat()
    )
    assert got == AWSSRP.get_cognito_formatted_timestamp(when)
    if when.day == 29 and when.month == 11:
        assert got == "Sun Nov 29 16:30:00 UTC 2026"


def test_secret_blocks_decode_as_python_decodes_them(srp_page: Any) -> None:
    blocks = [REAL_SECRET_BLOCK, MOTO_SECRET_BLOCK, base64.b64encode(b"x").decode(), base64.b64encode(b"xy").decode()]
    got = srp_page.evaluate(
        """async (blocks) => {
          const srp = await import("/checkout/srp.js");
          return blocks.map((b) => Array.from(srp.base64ToBytes(b)));
        }""",
        blocks,
    )
    assert [bytes(b) for b in got] == [base64.b64decode(b) for b in blocks]


@pytest.fixture(scope="module")
def srp_gateway(web_stack: Stack) -> Iterator[str]:
    """A second gateway of the same stack whose page signs in with USER_SRP_AUTH."""
    port = free_port()
    gateway = ServiceProcess(
        name="gateway-srp",
        args=[sys.executable, "-m", "bnpl_gateway"],
        health_url=f"http://{web_stack.host}:{port}/readyz",
        env={
            **web_stack.service_env(),
            "GATEWAY_HOST": web_stack.host,
            "GATEWAY_PORT": str(port),
            "COGNITO_AUTH_FLOW": "USER_SRP_AUTH",
        },
        log_path=web_stack.data_dir / "logs" / "gateway-srp.log",
    )
    gateway.start()
    try:
        yield f"http://{web_stack.host}:{port}"
    finally:
        gateway.stop()


@pytest.mark.e2e
def test_the_page_signs_in_with_srp_against_the_local_cognito(shopper_factory: Any, srp_gateway: str) -> None:
    """The flow end to end: InitiateAuth with SRP_A, RespondToAuthChallenge with the proof, the
    token accepted by the gateway. moto returns tokens without checking the signature, so this
    shows the page speaks the protocol; the byte-for-byte test above is what proves the math."""
    shopper: Shopper = shopper_factory(base_url=srp_gateway)
    calls: list[tuple[str, dict[str, Any]]] = []

    def record(request: Any) -> None:
        target = request.headers.get("x-amz-target", "")
        if target.startswith("AWSCognitoIdentityProviderService."):
            calls.append((target.split(".", 1)[1], json.loads(request.post_data or "{}")))

    shopper.page.on("request", record)
    assert shopper.page.request.get(f"{srp_gateway}/config.json").json()["cognito"]["authFlow"] == "USER_SRP_AUTH"
    shopper.open_checkout(checkout(24_900)["checkoutToken"])
    shopper.sign_up()  # signs in right after the confirmation
    shopper.heading("Tell us about you")
    shopper.page.get_by_role("button", name="Sign out").click()
    shopper.heading("Sign in to pay later")
    shopper.sign_in()
    shopper.heading("Tell us about you")  # the gateway took the token: the page asked who this is
    shopper.shot("signed-in-with-srp")

    sign_ins = [body for name, body in calls if name in ("InitiateAuth", "RespondToAuthChallenge")]
    assert [name for name, _ in calls if name != "SignUp" and name != "ConfirmSignUp"] == [
        "InitiateAuth",
        "RespondToAuthChallenge",
    ] * 2
    for name, body in calls:
        if name == "InitiateAuth":
            assert body["AuthFlow"] == "USER_SRP_AUTH"
            assert set(body["AuthParameters"]) == {"USERNAME", "SRP_A"}
            assert int(body["AuthParameters"]["SRP_A"], 16) % N != 0
        if name == "RespondToAuthChallenge":
            assert body["ChallengeName"] == "PASSWORD_VERIFIER"
            responses = body["ChallengeResponses"]
            proof = {"USERNAME", "PASSWORD_CLAIM_SECRET_BLOCK", "PASSWORD_CLAIM_SIGNATURE", "TIMESTAMP"}
            assert set(responses) == proof
            assert len(base64.b64decode(responses["PASSWORD_CLAIM_SIGNATURE"])) == 32
    # The password goes to SignUp, and never to a sign-in call.
    assert all(PASSWORD not in json.dumps(body) for body in sign_ins)
