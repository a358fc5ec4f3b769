"""The security properties of the AWS templates that lint tools cannot see: who may read which
secret, who may call which API, what the WAF does, and that the data key serves only our
resources. Each test reads the templates as CloudFormation does (cfn-lint's decoder)."""

from __future__ import annotations

import fnmatch
import json
import re
from functools import cache
from typing import Any

import pytest
from cfnlint.decode import decode

from tests.infra._paths import ROOT

SERVICES = ("gateway", "user", "credit")


@cache
def template(name: str) -> dict[str, Any]:
    decoded, matches = decode(str(ROOT / "infra" / "cloudformation" / f"{name}.yaml"))
    assert decoded is not None, matches
    return decoded


def resources(name: str = "services") -> dict[str, Any]:
    return template(name)["Resources"]


def container(service: str) -> dict[str, Any]:
    definitions = resources()[f"{service.capitalize()}TaskDefinition"]["Properties"]["ContainerDefinitions"]
    (definition,) = [c for c in definitions if c["Name"] == service]
    return definition


def env(service: str) -> dict[str, Any]:
    return {e["Name"]: e["Value"] for e in container(service)["Environment"]}


def statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [st for policy in role["Properties"].get("Policies", []) for st in policy["PolicyDocument"]["Statement"]]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("service", SERVICES)
def test_each_execution_role_reads_only_the_secrets_of_its_own_task(service: str) -> None:
    task = resources()[f"{service.capitalize()}TaskDefinition"]["Properties"]
    role_name = task["ExecutionRoleArn"]["Fn::GetAtt"][0]
    assert role_name == f"{service.capitalize()}ExecutionRole"
    others = {
        t["Properties"]["ExecutionRoleArn"]["Fn::GetAtt"][0]
        for k, t in resources().items()
        if k.endswith("TaskDefinition") and k != f"{service.capitalize()}TaskDefinition"
    }
    assert role_name not in others, "an execution role shared between tasks"
    readable = [
        resource
        for st in statements(resources()[role_name])
        if "secretsmanager:GetSecretValue" in as_list(st["Action"])
        for resource in as_list(st["Resource"])
    ]
    injected = [secret["ValueFrom"] for secret in container(service).get("Secrets", [])]
    assert sorted(map(str, readable)) == sorted(map(str, injected))


@pytest.mark.parametrize("service", SERVICES)
def test_no_task_gets_a_sigv4_key_it_never_checks(service: str) -> None:
    """User and credit run with SERVICE_AUTH_MODE=apigateway-iam; the gateway verifies no one."""
    secrets = {s["Name"] for s in container(service).get("Secrets", [])}
    assert "SERVICE_AUTH_KEYS" not in secrets and "SERVICE_AUTH_KEYS" not in env(service)
    if service != "gateway":
        assert env(service)["SERVICE_AUTH_MODE"] == "apigateway-iam"


def test_no_merchant_key_is_injected_where_iam_consumes_the_signature() -> None:
    secrets = {s["Name"] for s in container("credit").get("Secrets", [])}
    assert "MERCHANT_AUTH_KEYS" not in secrets
    assert env("credit")["MERCHANT_AUTH_KEYS"] == ""  # no key-signed refund can pass in AWS


def test_merchants_reach_only_the_merchant_routes_with_their_iam_role() -> None:
    res = resources()
    api = res["MerchantApi"]
    assert api["Condition"] == "HasMerchantIntegrations"
    assert api["Properties"]["EndpointConfiguration"]["Types"] == ["REGIONAL"]
    (allow,) = api["Properties"]["Policy"]["Statement"]
    assert allow["Effect"] == "Allow"
    assert allow["Principal"] == {"AWS": {"Ref": "MerchantIntegrationRoleArns"}}
    assert allow["Resource"] == "execute-api:/*/*/v1/merchant/*"
    methods = {
        name: r["Properties"]
        for name, r in res.items()
        if r["Type"] == "AWS::ApiGateway::Method" and r["Properties"]["RestApiId"] == {"Ref": "MerchantApi"}
    }
    routes = set()
    for method in methods.values():
        assert method["AuthorizationType"] == "AWS_IAM"
        integration = method["Integration"]
        path = _resource_path(res, method["ResourceId"]["Ref"])
        assert integration["Uri"]["Fn::Sub"].endswith(":8002" + path)
        assert path.startswith("/v1/merchant/")
        assert (
            integration["RequestParameters"]["integration.request.header.X-Bnpl-Caller-Arn"]
            == "context.identity.userArn"
        )
        routes.add((method["HttpMethod"], path))
    # exactly the merchant API's routes (its OpenAPI document, plus the webhook-delivery routes)
    document = json.loads((ROOT / "services" / "credit" / "merchant-openapi.json").read_text())
    documented = {
        (verb.upper(), re.sub(r"\{[a-z_]+\}", "{id}", path))
        for path, item in document["paths"].items()
        for verb in item
    }
    deliveries = {
        ("GET", "/v1/merchant/webhook-deliveries"),
        ("POST", "/v1/merchant/webhook-deliveries/{id}/redeliver"),
    }
    assert routes == documented | deliveries
    assert template("services")["Parameters"]["MerchantIntegrationRoleArns"]["Type"] == "CommaDelimitedList"


def _resource_path(res: dict[str, Any], name: str) -> str:
    parts = []
    while name in res and res[name]["Type"] == "AWS::ApiGateway::Resource":
        props = res[name]["Properties"]
        parts.append(props["PathPart"])
        parent = props["ParentId"]
        if "Ref" not in parent:
            break
        name = parent["Ref"]
    return "/" + "/".join(reversed(parts))


def test_the_gateway_cannot_call_the_merchant_routes() -> None:
    policy = resources()["InternalApi"]["Properties"]["Policy"]["Statement"]
    deny = [st for st in policy if st["Effect"] == "Deny" and st["Resource"] == "execute-api:/*/*/credit/v1/merchant/*"]
    assert deny and deny[0]["Principal"] == "*" and "Condition" not in deny[0]


def test_the_alb_has_a_rate_limited_waf_that_never_logs_tokens() -> None:
    res = resources()
    acl = res["WebAcl"]["Properties"]
    assert acl["Scope"] == "REGIONAL" and acl["DefaultAction"] == {"Allow": {}}
    rules = {rule["Name"]: rule for rule in acl["Rules"]}
    rate = rules["rate-per-ip"]
    assert rate["Action"] == {"Block": {}}
    assert rate["Statement"]["RateBasedStatement"]["Limit"] == {"Ref": "WafRateLimit"}
    assert rate["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "IP"
    managed = {
        r["Statement"]["ManagedRuleGroupStatement"]["Name"]
        for r in acl["Rules"]
        if "ManagedRuleGroupStatement" in r["Statement"]
    }
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"} <= managed
    assert res["WebAclAlbAssociation"]["Properties"]["ResourceArn"] == {"Ref": "LoadBalancer"}
    assert res["WebAclMerchantApiAssociation"]["Condition"] == "MerchantApiWithWaf"
    redacted = [f["SingleHeader"]["Name"] for f in res["WebAclLogging"]["Properties"]["RedactedFields"]]
    assert "authorization" in redacted
    assert res["WafLogs"]["Properties"]["LogGroupName"]["Fn::Sub"].startswith("aws-waf-logs-")
    assert template("services")["Parameters"]["EnableWaf"]["Default"] == "true"


def test_the_data_key_serves_aws_services_only_for_this_account() -> None:
    """Every service-principal statement is bound to this account: aws:SourceAccount (and
    aws:SourceArn), or for CloudWatch Logs the log group ARN in the encryption context."""
    key_statements = resources("data")["DataKey"]["Properties"]["KeyPolicy"]["Statement"]
    services = [st for st in key_statements if "Service" in st["Principal"]]
    assert len(services) >= 3
    for st in services:
        condition = st.get("Condition", {})
        if st["Sid"] == "CloudWatchLogs":
            arns = as_list(condition["ArnLike"]["kms:EncryptionContext:aws:logs:arn"])
            assert all("${AWS::AccountId}:log-group:" in arn["Fn::Sub"] for arn in arns)
            assert not any(arn["Fn::Sub"].endswith("log-group:*") for arn in arns)
            continue
        assert condition["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}, st["Sid"]
        for arn in as_list(condition["ArnLike"]["aws:SourceArn"]):
            assert "${AWS::AccountId}" in arn["Fn::Sub"], st["Sid"]


def test_every_log_group_on_the_data_key_is_one_the_key_policy_allows() -> None:
    """A log group outside the allowed names would fail to create (CloudWatch Logs is refused the key)."""
    key_statements = resources("data")["DataKey"]["Properties"]["KeyPolicy"]["Statement"]
    (logs,) = [st for st in key_statements if st["Sid"] == "CloudWatchLogs"]
    patterns = [
        arn["Fn::Sub"].split(":log-group:")[1]
        for arn in as_list(logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"])
    ]
    for name in ("services", "alarms", "model", "identity"):
        for key, resource in resources(name).items():
            if resource["Type"] != "AWS::Logs::LogGroup" or "KmsKeyId" not in resource["Properties"]:
                continue
            # no LogGroupName: CloudFormation names it <stack>-<logical id>-<suffix>, and deploy.sh
            # names the stacks bnpl-<env>-<template>
            group = resource["Properties"].get("LogGroupName", f"bnpl-${{EnvName}}-{name}-{key}-SUFFIX")
            group = group["Fn::Sub"] if isinstance(group, dict) else group
            assert any(fnmatch.fnmatch(group, pattern) for pattern in patterns), (name, key, group)


# boto3 DynamoDB client calls and the IAM actions they need (a transaction needs the action of each
# item: the storage adapters put, update, delete and condition-check inside their transactions)
DYNAMODB_ACTIONS = {
    "get_item": {"dynamodb:GetItem"},
    "put_item": {"dynamodb:PutItem"},
    "update_item": {"dynamodb:UpdateItem"},
    "delete_item": {"dynamodb:DeleteItem"},
    "query": {"dynamodb:Query"},
    "batch_get_item": {"dynamodb:BatchGetItem"},
    "batch_write_item": {"dynamodb:BatchWriteItem"},
    "describe_table": {"dynamodb:DescribeTable"},
    "transact_write_items": {
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:ConditionCheckItem",
    },
}


@pytest.mark.parametrize("service", ["user", "credit"])
def test_each_task_role_allows_every_dynamodb_call_its_storage_makes(service: str) -> None:
    source = (ROOT / "services" / service / "src" / f"bnpl_{service}" / "storage" / "dynamodb.py").read_text()
    calls = set(re.findall(r"\.(\w+)\(", source)) & set(DYNAMODB_ACTIONS)
    assert calls, "no DynamoDB call found: has the storage adapter moved?"
    needed = set().union(*(DYNAMODB_ACTIONS[c] for c in calls))
    role = resources()[f"{service.capitalize()}TaskRole"]
    allowed = {a for st in statements(role) if st["Effect"] == "Allow" for a in as_list(st["Action"])}
    assert needed <= allowed, sorted(needed - allowed)
