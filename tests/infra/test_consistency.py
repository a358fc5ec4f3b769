"""The three ways to run agree: every setting a service reads is provided by docker-compose.yml
and by its CloudFormation task definition, and ports, health paths, table schemas and the local
Cognito ids line up. The settings are introspected from the pydantic classes, so a new field
fails here until compose and the template provide it (or it is listed below with a reason).

The rule: every settings field must be set explicitly in each environment, except the ones in
OPTIONAL (its code default is right there, or it belongs to a mode that environment does not use).
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import pytest
import yaml
from bnpl_credit.collections.settings import CollectionSettings
from bnpl_credit.psp.settings import PspSettings
from bnpl_credit.reviews.settings import ReviewSettings
from bnpl_credit.settings import Settings as CreditSettings
from bnpl_gateway.settings import Settings as GatewaySettings
from bnpl_user.settings import Settings as UserSettings
from cfnlint.decode import decode

from tests.infra._paths import COMPOSE_FILE, ROOT, SERVICE_DOCKERFILES

SETTINGS = {"gateway": GatewaySettings, "user": UserSettings, "credit": CreditSettings}
PORTS = {"gateway": 8000, "user": 8001, "credit": 8002}
HEALTH = "/livez"

OPTIONAL: dict[str, dict[str, str]] = {
    "compose": {
        "MODEL_ARTIFACT_DIR": "only with SCORER=inprocess; compose scores through the model container",
        "SAGEMAKER_ENDPOINT_NAME": "only with SCORER=sagemaker (AWS)",
        "SMS_ORIGINATION_IDENTITY": "only with SMS_NOTIFIER=end-user-messaging (AWS)",
        "POLICY_PATH": "the policy packaged with the credit service is the one to use",
        "CLOCK_OFFSET_FILE": "test-only clock control",
        "CHECKOUT_WEB_DIR": "set by the gateway image (ENV CHECKOUT_WEB_DIR=/opt/bnpl/web)",
        "CHECKOUT_CLIENT_ID": "defaults to the first of COGNITO_CLIENT_IDS, the one app client",
        "COGNITO_PUBLIC_ENDPOINT": "the page reaches Cognito through the gateway (COGNITO_PROXY), which excludes it",
        "SERVICE_AUTH_MODE": "default sigv4: in compose the services verify the gateway's signature themselves",
        "MERCHANT_AUTH_MODE": "default sigv4: in compose merchants sign with MERCHANT_AUTH_KEYS",
        "MERCHANT_PRINCIPALS": "only with MERCHANT_AUTH_MODE=apigateway-iam (AWS merchant API)",
        "SERVICE_AUTH_PRINCIPALS": "only with SERVICE_AUTH_MODE=apigateway-iam (AWS)",
        "LAKE_DIR": "the data lake is a make-run and AWS feature; compose publishes events to the log only",
        "LAKE_PSEUDONYM_KEY": "only with a lake (LAKE_DIR, or EVENT_PUBLISHER=eventbridge)",
        "SHADOW_MODEL_URL": "shadow scoring is off unless a challenger is configured",
        "SHADOW_SAGEMAKER_ENDPOINT_NAME": "shadow scoring in AWS, off unless a challenger endpoint exists",
        "STAFF_COGNITO_USER_POOL_ID": "AWS only; locally staff are users of the one pool, in the operations groups",
        "STAFF_COGNITO_CLIENT_IDS": "with STAFF_COGNITO_USER_POOL_ID only (AWS)",
        "PSP_PUBLISHABLE_KEY": "PSP=stripe only; compose's page uses the sandbox PSP's own card page",
        "STRIPE_JS_URL": "a test's local stand-in for Stripe.js; the default is Stripe's",
        "PSP_SANDBOX_CARD_FIELD": "default page (the sandbox's own card page); element: a Stripe.js stand-in test",
    },
    "aws": {
        "COGNITO_ENDPOINT": "local Cognito only; in AWS the JWKS comes from the pool's issuer URL",
        "MODEL_URL": "SCORER=http only; AWS scores with SageMaker",
        "MODEL_ARTIFACT_DIR": "SCORER=inprocess only",
        "USER_DB_PATH": "SQLite store, local only (USER_STORE=dynamodb in AWS)",
        "CREDIT_DB_PATH": "SQLite store, local only (CREDIT_STORE=dynamodb in AWS)",
        "SMS_OUTBOX_PATH": "the outbox notifier is refused with BNPL_ENV=aws",
        "POLICY_PATH": "the policy packaged with the credit service is the one to use",
        "CLOCK_OFFSET_FILE": "test-only clock control, refused with BNPL_ENV=aws",
        "DYNAMODB_ENDPOINT": "DynamoDB Local only; AWS uses the regional endpoint (VPC gateway endpoint)",
        "CHECKOUT_WEB_DIR": "set by the gateway image (ENV CHECKOUT_WEB_DIR=/opt/bnpl/web)",
        "CHECKOUT_CLIENT_ID": "defaults to the first of COGNITO_CLIENT_IDS, the one app client",
        "COGNITO_PUBLIC_ENDPOINT": "defaults to the regional Cognito endpoint, which browsers reach",
        "COGNITO_PROXY": "local-only pass-through to the Cognito stand-in; refused with BNPL_ENV=aws",
        # user and credit set both (services.yaml); the gateway only calls, nobody calls it with SigV4
        "SERVICE_AUTH_MODE": "inbound service auth: set for user and credit, unused by the gateway",
        "SERVICE_AUTH_PRINCIPALS": "inbound service auth: set for user and credit, unused by the gateway",
        "SERVICE_AUTH_KEYS": "sigv4 mode only; in AWS API Gateway verifies callers with IAM (apigateway-iam)",
        "LAKE_DIR": "the local lake's folder; in AWS Firehose writes the lake (data.yaml)",
        "SHADOW_MODEL_URL": "a second local model server; AWS uses SHADOW_SAGEMAKER_ENDPOINT_NAME",
        "SHADOW_SAGEMAKER_ENDPOINT_NAME": "set when a challenger endpoint is deployed for shadow scoring",
        "PSP_SANDBOX_URL": "PSP=sandbox only (local); AWS uses Stripe",
        "PSP_SANDBOX_PAGE_URL": "PSP=sandbox only (local); AWS collects cards with Stripe's Payment Element",
        "PAYMENT_RETURN_ORIGINS": "the checkout page is at GATEWAY_PUBLIC_URL, whose origin is always allowed",
        "STRIPE_JS_URL": "a test's local stand-in for Stripe.js; refused with BNPL_ENV=aws",
        "PSP_SANDBOX_CARD_FIELD": "PSP=sandbox only (local); AWS uses Stripe",
    },
}
# Names given to the services that their settings classes do not read (yet), with the reason.
NOT_SETTINGS = {
    "AWS_ACCESS_KEY_ID": "botocore credential chain (compose: dummy keys for the emulators)",
    "AWS_SECRET_ACCESS_KEY": "botocore credential chain (compose: dummy keys for the emulators)",
    "AWS_DEFAULT_REGION": "botocore",
    # bnpl_common.telemetry reads its own settings (the OpenTelemetry names; README "Observability")
    "OTEL_TRACES_EXPORTER": "bnpl_common.telemetry: otlp to the collector sidecar in AWS",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "bnpl_common.telemetry: the collector sidecar on the task's loopback",
    "OTEL_ID_GENERATOR": "bnpl_common.telemetry: X-Ray trace ids",
    "OTEL_TRACES_SAMPLER_ARG": "bnpl_common.telemetry: share of new traces recorded",
    # the credit service's documents read their own settings class (disclosures/settings.py)
    "DOCUMENT_STORE": "DocumentSettings: s3 in AWS",
    "DOCUMENT_BUCKET": "DocumentSettings: the data stack's documents bucket",
    "DOCUMENT_KMS_KEY_ID": "DocumentSettings: the data key",
    "DOCUMENT_LINK_BASE_URL": "DocumentSettings: where browsers reach /documents/ (the gateway)",
    "DOCUMENT_LINK_KEY": "DocumentSettings: signs the time-limited links (Secrets Manager)",
    "DOCUMENT_LINK_TTL_SECONDS": "DocumentSettings: how long a link works",
}


# settings classes of a capability not yet folded into the service's own (read from the same environment)
EXTRA_SETTINGS: dict[str, list[Any]] = {"credit": [ReviewSettings, PspSettings, CollectionSettings]}


def fields(service: str) -> set[str]:
    classes = [SETTINGS[service], *EXTRA_SETTINGS.get(service, [])]
    return {name.upper() for cls in classes for name in cls.model_fields}


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def compose_env(service: str) -> dict[str, str]:
    return {k: str(v) for k, v in compose()["services"][service]["environment"].items()}


def services_template() -> dict[str, Any]:
    template, matches = decode(str(ROOT / "infra" / "cloudformation" / "services.yaml"))
    assert template is not None, matches
    return template


def container(service: str) -> dict[str, Any]:
    resources = services_template()["Resources"]
    task = resources[f"{service.capitalize()}TaskDefinition"]["Properties"]
    # the service's own container (beside it: the short-lived volume-permissions container)
    (definition,) = [c for c in task["ContainerDefinitions"] if c["Name"] == service]
    return definition


def _literal(value: Any) -> str:
    """A task definition value as the container would see it: literals as they are, a parameter
    reference as its default, a condition as its false branch (with every parameter at its default
    the optional features, such as the merchant API, are off), anything else stubbed."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and set(value) == {"Ref"}:
        default = services_template()["Parameters"].get(value["Ref"], {}).get("Default")
        if isinstance(default, str):
            return default
    if isinstance(value, dict) and set(value) == {"Fn::If"}:
        return _literal(value["Fn::If"][2])
    return "resolved-at-deploy"


def task_env(service: str) -> set[str]:
    definition = container(service)
    return {e["Name"] for e in definition.get("Environment", [])} | {s["Name"] for s in definition.get("Secrets", [])}


@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_compose_provides_every_setting(service: str) -> None:
    missing = fields(service) - set(compose_env(service)) - set(OPTIONAL["compose"])
    assert not missing, f"docker-compose.yml service {service} lacks {sorted(missing)}"


@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_task_definition_provides_every_setting(service: str) -> None:
    missing = fields(service) - task_env(service) - set(OPTIONAL["aws"])
    assert not missing, f"services.yaml task definition of {service} lacks {sorted(missing)}"


@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_no_unknown_variable_names(service: str) -> None:
    """A typo in a variable name would silently fall back to the default: refuse unknown names."""
    known = fields(service) | set(NOT_SETTINGS)
    assert not set(compose_env(service)) - known, f"compose {service}: {sorted(set(compose_env(service)) - known)}"
    assert not task_env(service) - known, f"task definition {service}: {sorted(task_env(service) - known)}"


@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_aws_values_pass_the_settings_validation(service: str) -> None:
    """The task definition's literal values (secrets and references stubbed) build a valid Settings."""
    env = {}
    for item in container(service)["Environment"]:
        env[item["Name"]] = _literal(item["Value"])
    for secret in container(service).get("Secrets", []):
        env[secret["Name"]] = "GeneratedSecretValue0123456789abcdefghijklm"  # 43 letters and digits, as generated
    names = fields(service)
    settings = SETTINGS[service](**{k.lower(): v for k, v in env.items() if k in names})
    assert settings.bnpl_env == "aws"


@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_compose_values_pass_the_settings_validation(service: str) -> None:
    env = compose_env(service)
    names = fields(service)
    SETTINGS[service](**{k.lower(): v for k, v in env.items() if k in names})


@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_ports_agree(service: str) -> None:
    port = PORTS[service]
    name = service.upper()
    assert SETTINGS[service].model_fields[f"{service}_port"].default == port
    assert compose_env(service)[f"{name}_PORT"] == str(port)
    dockerfile = SERVICE_DOCKERFILES[service].read_text()
    assert f"EXPOSE {port}" in dockerfile and f"{name}_PORT={port}" in dockerfile
    assert f"{name}_HOST=0.0.0.0" in dockerfile
    definition = container(service)
    assert definition["PortMappings"][0]["ContainerPort"] == port
    env = {e["Name"]: e["Value"] for e in definition["Environment"]}
    assert env[f"{name}_PORT"] == str(port)
    assert env[f"{name}_HOST"] == "0.0.0.0"  # noqa: S104 - a container listens on its own interface


@pytest.mark.parametrize("service", sorted(SETTINGS))
def test_health_paths_agree(service: str) -> None:
    dockerfile = SERVICE_DOCKERFILES[service].read_text()
    assert "HEALTHCHECK" in dockerfile and HEALTH in dockerfile
    assert f'ENTRYPOINT ["python", "-m", "bnpl_{service}"]' in dockerfile
    command = " ".join(container(service)["HealthCheck"]["Command"])
    assert f"127.0.0.1:{PORTS[service]}{HEALTH}" in command
    groups = services_template()["Resources"][f"{service.capitalize()}TargetGroup"]["Properties"]
    assert groups["HealthCheckPath"] == HEALTH
    assert groups["Port"] == PORTS[service]


def test_model_server_contract() -> None:
    model = compose()["services"]["model"]
    assert model["build"] == {"context": ".", "dockerfile": "model/Dockerfile"}
    assert "127.0.0.1:8080/ping" in " ".join(model["healthcheck"]["test"])
    assert compose_env("credit")["MODEL_URL"] == "http://model:8080"


def test_only_the_gateway_and_the_psps_card_page_are_published() -> None:
    """The sandbox PSP's card page is its own origin, which the shopper's browser opens (as
    Stripe's would be), so it is published too; on loopback only, like the gateway."""
    services = compose()["services"]
    published = {name for name, svc in services.items() if svc.get("ports")}
    assert published == {"gateway", "psp-sandbox"}
    assert all(port.startswith("127.0.0.1:") for name in published for port in services[name]["ports"])


def test_the_checkout_page_reaches_cognito_through_the_gateway_in_compose() -> None:
    """Only the gateway is published, so the browser's Cognito calls go through its pass-through,
    which forwards to the cognito container on the compose network."""
    env = compose_env("gateway")
    settings = GatewaySettings(**{k.lower(): v for k, v in env.items() if k in fields("gateway")})
    assert settings.cognito_proxy_enabled
    assert settings.cognito_endpoint == f"http://cognito:{compose()['services']['cognito']['environment']['MOTO_PORT']}"
    assert "COGNITO_PROXY" not in task_env("gateway")


def test_services_wait_for_health() -> None:
    services = compose()["services"]
    assert services["gateway"]["depends_on"]["user"]["condition"] == "service_healthy"
    assert services["gateway"]["depends_on"]["credit"]["condition"] == "service_healthy"
    for name in ("user", "credit"):
        assert services[name]["depends_on"]["init"]["condition"] == "service_completed_successfully"
    assert services["credit"]["depends_on"]["model"]["condition"] == "service_healthy"


def test_moto_image_matches_the_pinned_moto() -> None:
    pinned = re.search(r"^moto==(\S+)$", (ROOT / "constraints.txt").read_text(), re.MULTILINE)
    assert pinned is not None
    assert compose()["services"]["cognito"]["image"] == f"motoserver/moto:{pinned.group(1)}"


def test_local_cognito_ids_are_the_ones_moto_generates(monkeypatch: pytest.MonkeyPatch) -> None:
    """compose/init.py creates the pool and client; moto's HASH strategy must give the ids
    that docker-compose.yml hands to the services."""
    from moto import mock_aws

    monkeypatch.setenv("MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY", "HASH")
    monkeypatch.setenv("MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY", "HASH")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    monkeypatch.syspath_prepend(str(ROOT / "compose"))
    sys.modules.pop("init", None)
    import boto3
    import init  # compose/init.py

    env = compose_env("gateway")
    with mock_aws():
        pool_id, client_id = init.ensure_pool(boto3.client("cognito-idp", region_name=env["AWS_REGION"]))
    assert (pool_id, client_id) == (env["COGNITO_USER_POOL_ID"], env["COGNITO_CLIENT_IDS"])
    init_env = compose()["services"]["init"]["environment"]
    assert (init_env["COGNITO_USER_POOL_ID"], init_env["COGNITO_CLIENT_IDS"]) == (pool_id, client_id)


TABLE_FILES = {
    "CreditTable": ROOT / "services/credit/src/bnpl_credit/storage/table.json",
    "UserTable": ROOT / "services/user/src/bnpl_user/storage/table.json",
}


def _index_shape(indexes: list[dict[str, Any]] | None) -> list[tuple[str, Any, Any]]:
    return sorted((i["IndexName"], i["KeySchema"], i["Projection"]) for i in indexes or [])


@pytest.mark.parametrize("resource", sorted(TABLE_FILES))
def test_table_schema_matches_the_service(resource: str) -> None:
    """One source of truth: the data stack's key schema, indexes and TTL are the service's table.json."""
    spec = json.loads(TABLE_FILES[resource].read_text())  # a moved or missing file fails here
    template, matches = decode(str(ROOT / "infra" / "cloudformation" / "data.yaml"))
    assert template is not None, matches
    props = template["Resources"][resource]["Properties"]

    def attrs(items: list[dict[str, str]]) -> list[tuple[str, str]]:
        return sorted((a["AttributeName"], a["AttributeType"]) for a in items)

    assert attrs(props["AttributeDefinitions"]) == attrs(spec["AttributeDefinitions"])
    assert props["KeySchema"] == spec["KeySchema"]
    assert _index_shape(props.get("GlobalSecondaryIndexes")) == _index_shape(spec.get("GlobalSecondaryIndexes"))
    ttl = spec.get("TimeToLiveAttribute")
    if ttl:
        assert props["TimeToLiveSpecification"] == {"AttributeName": ttl, "Enabled": True}


def test_init_creates_tables_from_table_json(monkeypatch: pytest.MonkeyPatch) -> None:
    """compose/init.py turns a table.json into the table (with its TTL), against moto."""
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    monkeypatch.syspath_prepend(str(ROOT / "compose"))
    sys.modules.pop("init", None)
    import boto3
    import init

    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        for resource, path in sorted(TABLE_FILES.items()):
            spec = json.loads(path.read_text())
            name = f"bnpl-local-{resource.lower()}"
            init.ensure_table(ddb, spec, name)
            init.ensure_table(ddb, spec, name)  # idempotent
            described = ddb.describe_table(TableName=name)["Table"]
            assert described["KeySchema"] == spec["KeySchema"]
            if spec.get("TimeToLiveAttribute"):
                ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
                assert ttl["AttributeName"] == spec["TimeToLiveAttribute"]
