"""The checkout page and the demo shop as the gateway serves them: config, headers, the
page's GraphQL documents against the schema."""

import importlib.util
import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from bnpl_common.testing import TEST_POOL_ID
from bnpl_gateway.limits import measure
from bnpl_gateway.schema import MAX_ALIASES, MAX_DEPTH, MAX_SELECTIONS, MAX_TOKENS, create_schema
from bnpl_gateway.settings import Settings
from bnpl_gateway.web import DEFAULT_WEB_DIR
from fastapi.testclient import TestClient
from graphql import OperationDefinitionNode, parse, validate
from pydantic import ValidationError

E2E_DIR = Path(__file__).resolve().parents[3] / "tests"

WEB = DEFAULT_WEB_DIR
_CONST = re.compile(r"(?:export )?const (\w+) = ([\"`])(.*?)\2;", re.S)


def page_documents() -> dict[str, str]:
    """The GraphQL documents of ``queries.js``, with its ``${NAME}`` fragments expanded."""
    source = (WEB / "checkout" / "queries.js").read_text()
    values: dict[str, str] = {}
    for name, _quote, body in _CONST.findall(source):
        values[name] = re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], body)
    return {name: text for name, text in values.items() if re.match(r"\s*(query|mutation)\b", text)}


def test_config_tells_the_page_where_cognito_and_the_api_are(build_gateway: Callable[..., TestClient]) -> None:
    gateway = build_gateway(cognito_endpoint="http://127.0.0.1:9229", cognito_client_ids=["client-a", "client-b"])
    response = gateway.get("/config.json")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {
        "cognito": {
            "region": "us-east-1",
            "endpoint": "http://127.0.0.1:9229",
            "clientId": "client-a",
            "userPoolId": TEST_POOL_ID,
            # moto accepts any SRP proof: locally only the password flow refuses a wrong password.
            "authFlow": "USER_PASSWORD_AUTH",
        },
        "staffCognito": None,  # locally staff sign in to the same pool (groups operations*)
        "graphqlUrl": "/graphql",
        "local": True,
        "stripe": None,  # the sandbox PSP: its own card page, no Stripe.js
    }


def test_with_a_staff_pool_the_console_signs_in_there_with_srp(build_gateway: Callable[..., TestClient]) -> None:
    gateway = build_gateway(
        cognito_endpoint="http://127.0.0.1:9229",
        staff_cognito_user_pool_id="us-east-1_Staff",
        staff_cognito_client_ids=["ops-client"],
    )
    staff = gateway.get("/config.json").json()["staffCognito"]
    assert staff == {
        "region": "us-east-1",
        "endpoint": "http://127.0.0.1:9229",
        "clientId": "ops-client",
        "userPoolId": "us-east-1_Staff",
        "authFlow": "USER_SRP_AUTH",
    }


def test_in_aws_the_page_talks_to_the_regional_cognito_endpoint(build_gateway: Callable[..., TestClient]) -> None:
    gateway = build_gateway(
        bnpl_env="aws", service_signing="aws", checkout_client_id="web-client", service_auth_keys={"K": "real-secret"}
    )
    config = gateway.get("/config.json").json()
    assert config["cognito"] == {
        "region": "us-east-1",
        "endpoint": "https://cognito-idp.us-east-1.amazonaws.com",
        "clientId": "web-client",
        "userPoolId": TEST_POOL_ID,
        "authFlow": "USER_SRP_AUTH",  # the only flow the AWS app client allows
    }
    assert config["local"] is False
    csp = gateway.get("/checkout/").headers["content-security-policy"]
    assert "connect-src 'self' https://cognito-idp.us-east-1.amazonaws.com;" in csp
    # The demo merchant is a server of its own (examples/demo_merchant): the gateway serves no shop.
    assert gateway.get("/shop/").status_code == 404
    assert gateway.get("/", follow_redirects=False).headers["location"] == "/checkout/"


def test_a_public_endpoint_overrides_the_one_the_services_use(build_gateway: Callable[..., TestClient]) -> None:
    gateway = build_gateway(
        cognito_endpoint="http://cognito:9229",  # the container network's name
        cognito_public_endpoint="http://localhost:9229/",
    )
    config = gateway.get("/config.json").json()
    assert config["cognito"]["endpoint"] == "http://localhost:9229"
    # The merchant's return address comes signed from the checkout session, not from settings.
    assert "returnOrigins" not in config


AWS = {"bnpl_env": "aws", "service_signing": "aws", "service_auth_keys": {"K": "real-secret"}}


def test_the_sign_in_flow_defaults_to_srp_in_aws_and_to_the_password_flow_locally(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings(**AWS).checkout_auth_flow == "USER_SRP_AUTH"
    assert Settings(bnpl_env="local").checkout_auth_flow == "USER_PASSWORD_AUTH"
    assert Settings(bnpl_env="test").checkout_auth_flow == "USER_PASSWORD_AUTH"
    monkeypatch.setenv("COGNITO_AUTH_FLOW", "USER_SRP_AUTH")
    assert Settings(bnpl_env="local").checkout_auth_flow == "USER_SRP_AUTH"


def test_the_password_flow_is_refused_in_aws() -> None:
    with pytest.raises(ValidationError, match=r"COGNITO_AUTH_FLOW=USER_PASSWORD_AUTH .* refused with BNPL_ENV=aws"):
        Settings(**AWS, cognito_auth_flow="USER_PASSWORD_AUTH")
    assert Settings(**AWS, cognito_auth_flow="USER_SRP_AUTH").checkout_auth_flow == "USER_SRP_AUTH"


def test_an_unknown_flow_is_refused_by_name() -> None:
    with pytest.raises(ValidationError, match="cognito_auth_flow"):
        Settings(cognito_auth_flow="ADMIN_NO_SRP_AUTH")


def test_srp_is_refused_with_the_local_pass_through() -> None:
    """The pass-through never forwards RespondToAuthChallenge, which SRP needs (moto accepts any proof)."""
    proxied = {"cognito_proxy": True, "cognito_endpoint": "http://cognito:5000"}
    with pytest.raises(ValidationError, match="COGNITO_PROXY works with COGNITO_AUTH_FLOW=USER_PASSWORD_AUTH only"):
        Settings(**proxied, cognito_auth_flow="USER_SRP_AUTH")
    assert Settings(**proxied).checkout_auth_flow == "USER_PASSWORD_AUTH"


def csp_of(response: httpx.Response) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))


def test_js_stripe_com_is_allowed_only_when_the_psp_is_stripe(build_gateway: Callable[..., TestClient]) -> None:
    sandbox = build_gateway()
    assert "stripe" not in sandbox.get("/checkout/").headers["content-security-policy"]
    assert sandbox.get("/config.json").json()["stripe"] is None
    stripe = build_gateway(psp="stripe", psp_publishable_key="pk_test_51Pub")
    csp = csp_of(stripe.get("/checkout/"))
    assert csp["script-src"] == "'self' https://js.stripe.com"
    assert csp["frame-src"] == "'self' https://js.stripe.com https://hooks.stripe.com"
    assert csp["connect-src"].endswith(" https://api.stripe.com")
    assert csp["frame-ancestors"] == "'none'" and csp["default-src"] == "'self'"
    config = stripe.get("/config.json").json()["stripe"]
    assert config == {"publishableKey": "pk_test_51Pub", "jsUrl": "https://js.stripe.com/v3/"}


def test_stripe_settings_refuse_a_secret_key_and_a_stand_in_in_aws() -> None:
    with pytest.raises(ValidationError, match="publishable key"):
        Settings(psp="stripe", psp_publishable_key="sk_live_oops")
    with pytest.raises(ValidationError, match="STRIPE_JS_URL"):
        Settings(bnpl_env="aws", service_signing="aws", stripe_js_url="http://127.0.0.1:9/v3/")
    with pytest.raises(ValidationError, match="STRIPE_JS_URL"):
        Settings(stripe_js_url="http://evil.example/v3/")


@pytest.mark.parametrize("path", ["/checkout/", "/checkout/app.js", "/checkout/order.js"])
def test_pages_carry_a_strict_content_security_policy(build_gateway: Callable[..., TestClient], path: str) -> None:
    response = build_gateway().get(path)
    assert response.status_code == 200
    csp = dict(part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))
    assert csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["connect-src"].startswith("'self' https://cognito-idp.")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    if path.endswith(".js"):
        assert "javascript" in response.headers["content-type"]


def test_the_home_page_is_the_checkout(build_gateway: Callable[..., TestClient]) -> None:
    gateway = build_gateway(bnpl_env="local")
    response = gateway.get("/", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "/checkout/"
    assert gateway.get("/shop/").status_code == 404
    assert gateway.get("/checkout", follow_redirects=False).headers["location"].endswith("/checkout/")


@pytest.mark.parametrize("html", sorted(WEB.rglob("*.html")), ids=lambda p: str(p.relative_to(WEB)))
def test_no_inline_script_or_style_the_policy_would_block(html: Path) -> None:
    text = html.read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline <script>"
    assert not re.search(r"\son[a-z]+\s*=", text), "inline event handler"
    assert not re.search(r"<style\b|\sstyle\s*=", text), "inline style"
    assert not re.search(r"https?://(?!www\.w3\.org)", text), "an external address (no CDN)"


def test_no_token_is_ever_written_outside_session_storage() -> None:
    for script in WEB.rglob("*.js"):
        text = script.read_text()
        assert "localStorage" not in text, script
        assert "document.cookie" not in text, script


def test_the_page_sends_documents_the_schema_accepts() -> None:
    documents = page_documents()
    assert {"ME", "CREATE_PROFILE", "CHECKOUT_SESSION", "APPLY", "CONFIRM_PLAN", "PLANS", "MAKE_PAYMENT"} <= set(
        documents
    )
    schema = create_schema()._schema
    for name, text in documents.items():
        errors = validate(schema, parse(text))
        assert not errors, f"{name}: {[e.message for e in errors]}"


def e2e_documents() -> dict[str, str]:
    """The operations the end-to-end tests send (tests/journey.py, tests/plans_queries.py)."""
    documents = {}
    for module in ("journey", "plans_queries"):
        # By path: under importlib mode ``tests`` here is this folder, not the root's.
        spec = importlib.util.spec_from_file_location(f"e2e_{module}", E2E_DIR / f"{module}.py")
        assert spec is not None and spec.loader is not None
        loaded = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(loaded)
        for name, value in vars(loaded).items():
            if isinstance(value, str) and re.match(r"\s*(query|mutation)\b|\s*\{\s*\w+\s*[({]", value):
                documents[f"{module}.{name}"] = value
    return documents


def test_real_documents_stay_well_within_the_limits() -> None:
    """The page's and the end-to-end tests' documents use at most a quarter of the token and
    selection budgets, half the depth and no aliases, so the limits never bite a real client."""
    documents = {f"queries.js {k}": v for k, v in page_documents().items()} | e2e_documents()
    assert {"journey.APPLY", "plans_queries.CONFIRM_PLAN", "queries.js PLANS"} <= set(documents)
    schema = create_schema()._schema
    for name, text in documents.items():
        document = parse(text, max_tokens=MAX_TOKENS // 4)  # raises past a quarter of the budget
        assert any(isinstance(d, OperationDefinitionNode) for d in document.definitions), name
        cost = measure(document)
        assert cost.selections <= MAX_SELECTIONS // 4, (name, cost.selections)
        assert max(op.totals.depth for op in cost.operations) <= MAX_DEPTH // 2, name
        assert cost.aliases <= MAX_ALIASES // 10, name
        errors = validate(schema, document)
        assert not errors, f"{name}: {[e.message for e in errors]}"


def test_without_the_web_folder_the_api_still_runs(build_gateway: Callable[..., TestClient], tmp_path: Path) -> None:
    gateway = build_gateway(checkout_web_dir=tmp_path)
    assert gateway.get("/checkout/").status_code == 404
    assert gateway.get("/config.json").status_code == 404
    assert gateway.get("/livez").status_code == 200
