"""The rules of tests/infra/rules/checks.py hold on the templates, and each would fail if one of
issue 19's defects came back: every mutation below puts one back into a copy of the templates
and the rule of its item must then report it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.infra.rules import checks
from tests.infra.rules.checks import Templates

TEMPLATES = checks.load_all()


@pytest.mark.parametrize("rule", sorted(checks.RULES))
def test_rule_holds_on_the_templates(rule: str) -> None:
    assert checks.RULES[rule](TEMPLATES) == []


def res(t: Templates, template: str, name: str) -> dict[str, Any]:
    return t[template]["Resources"][name]


def props(t: Templates, template: str, name: str) -> dict[str, Any]:
    return res(t, template, name)["Properties"]


def _serverless_isolated(t: Templates) -> None:
    props(t, "model", "Model")["EnableNetworkIsolation"] = True


def _serverless_default(t: Templates) -> None:
    t["model"]["Parameters"]["Serverless"]["Default"] = "true"


def _no_provisioned_concurrency(t: Templates) -> None:
    variant = props(t, "model", "EndpointConfig")["ProductionVariants"][0]
    del variant["ServerlessConfig"]["Fn::If"][1]["ProvisionedConcurrency"]


def _staff_in_shopper_pool(t: Templates) -> None:
    props(t, "identity", "OperationsGroup")["UserPoolId"] = {"Ref": "UserPool"}


def _staff_mfa_optional(t: Templates) -> None:
    props(t, "identity", "StaffUserPool")["MfaConfiguration"] = "OPTIONAL"


def _password_auth(t: Templates) -> None:
    props(t, "identity", "CheckoutClient")["ExplicitAuthFlows"].append("ALLOW_USER_PASSWORD_AUTH")


def _no_threat_protection(t: Templates) -> None:
    pool = props(t, "identity", "UserPool")
    pool["UserPoolTier"] = "ESSENTIALS"
    del pool["UserPoolAddOns"]


def _month_long_refresh(t: Templates) -> None:
    client = props(t, "identity", "CheckoutClient")
    client["RefreshTokenValidity"] = 30
    client["TokenValidityUnits"]["RefreshToken"] = "days"


def _prod_without_ses(t: Templates) -> None:
    del t["identity"]["Rules"]


def _desired_count(t: Templates) -> None:
    props(t, "services", "CreditService")["DesiredCount"] = 1


def _min_equals_max(t: Templates) -> None:
    t["services"]["Mappings"]["TasksByEnv"]["dev"]["Max"] = 1


def _one_task_in_prod(t: Templates) -> None:
    t["services"]["Mappings"]["TasksByEnv"]["prod"]["Min"] = 1


def _initial_instances_above_max(t: Templates) -> None:
    variant = props(t, "model", "EndpointConfig")["ProductionVariants"][0]
    variant["InitialInstanceCount"]["Fn::If"][2] = 9


def _one_nat(t: Templates) -> None:
    props(t, "network", "PrivateNatRouteB")["NatGatewayId"] = {"Ref": "NatGatewayA"}
    del t["network"]["Resources"]["NatGatewayB"]


def _fixed_table_name(t: Templates) -> None:
    props(t, "data", "CreditTable")["TableName"] = {"Fn::Sub": "bnpl-${EnvName}-credit"}


def _fixed_log_group_name(t: Templates) -> None:
    props(t, "services", "CreditLogs")["LogGroupName"] = {"Fn::Sub": "/bnpl/${EnvName}/credit"}


def _fixed_secret_name(t: Templates) -> None:
    props(t, "data", "OtpPepperSecret")["Name"] = {"Fn::Sub": "bnpl/${EnvName}/otp-pepper"}


def _no_rule(t: Templates) -> None:
    for name in [n for n, r in t["data"]["Resources"].items() if r["Type"] == "AWS::Events::Rule"]:
        del t["data"]["Resources"][name]


def _no_dead_letters(t: Templates) -> None:
    del props(t, "data", "AllEventsRule")["Targets"][0]["DeadLetterConfig"]


def _no_bus_key(t: Templates) -> None:
    del props(t, "data", "EventBus")["KmsKeyIdentifier"]


def _method_changed(t: Templates) -> None:
    props(t, "services", "CreditProxyMethod")["Integration"]["TimeoutInMillis"] = 20000


def _account_per_environment(t: Templates) -> None:
    t["services"]["Resources"]["ApiGatewayAccount"] = {
        "Type": "AWS::ApiGateway::Account",
        "Properties": {"CloudWatchRoleArn": "arn:aws:iam::123456789012:role/x"},
    }


def _egress_anywhere(t: Templates) -> None:
    props(t, "services", "CreditSecurityGroup")["SecurityGroupEgress"].append(
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"}
    )


def _default_egress(t: Templates) -> None:
    del props(t, "services", "NlbSecurityGroup")["SecurityGroupEgress"]


def _nat_by_default(t: Templates) -> None:
    t["network"]["Parameters"]["EnableNatGateway"]["Default"] = "true"


def _open_s3_endpoint(t: Templates) -> None:
    props(t, "network", "S3Endpoint")["PolicyDocument"]["Statement"][0]["Resource"] = "*"


def _endpoint_without_policy(t: Templates) -> None:
    del props(t, "network", "KmsEndpoint")["PolicyDocument"]


def _kms_directly(t: Templates) -> None:
    for st in props(t, "services", "CreditTaskRole")["Policies"][0]["PolicyDocument"]["Statement"]:
        st.pop("Condition", None)


def _any_repository(t: Templates) -> None:
    for st in props(t, "model", "ExecutionRole")["Policies"][0]["PolicyDocument"]["Statement"]:
        if st.get("Sid") == "PullImage":
            st["Resource"] = {"Fn::Sub": "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/*"}


def _decisions_deleted(t: Templates) -> None:
    res(t, "services", "CreditLogs")["DeletionPolicy"] = "Delete"


def _pitr_only(t: Templates) -> None:
    for name in ("BackupPlan", "BackupSelection", "BackupVault", "BackupRole"):
        del t["data"]["Resources"][name]
    props(t, "data", "AllEventsRule")  # the rest of the data stack stays


def _no_policies(t: Templates) -> None:
    queue = res(t, "data", "DomainEventsQueue")
    del queue["DeletionPolicy"], queue["UpdateReplacePolicy"]


def _root_owned_scratch(t: Templates) -> None:
    definitions = props(t, "services", "UserTaskDefinition")["ContainerDefinitions"]
    props(t, "services", "UserTaskDefinition")["ContainerDefinitions"] = [d for d in definitions if d["Name"] == "user"]
    del props(t, "services", "UserTaskDefinition")["ContainerDefinitions"][0]["DependsOn"]


def _slow_deregistration(t: Templates) -> None:
    del props(t, "services", "CreditTargetGroup")["TargetGroupAttributes"]


def _vpc_link_v1(t: Templates) -> None:
    t["services"]["Resources"]["VpcLink"] = {
        "Type": "AWS::ApiGateway::VpcLink",
        "Properties": {"Name": "internal", "TargetArns": [{"Ref": "InternalNlb"}]},
    }


MUTATIONS: dict[str, tuple[str, Callable[[Templates], None]]] = {
    "serverless endpoint with network isolation": ("1 model endpoint", _serverless_isolated),
    "serverless as the production default": ("1 model endpoint", _serverless_default),
    "serverless without provisioned concurrency": ("1 model endpoint", _no_provisioned_concurrency),
    "staff group in the self-sign-up pool": ("2 staff identity", _staff_in_shopper_pool),
    "staff MFA optional": ("2 staff identity", _staff_mfa_optional),
    "USER_PASSWORD_AUTH on the checkout client": ("2 staff identity", _password_auth),
    "no threat protection": ("2 staff identity", _no_threat_protection),
    "30-day refresh tokens": ("2 staff identity", _month_long_refresh),
    "prod mail through Cognito's mailer": ("2 staff identity", _prod_without_ses),
    "DesiredCount beside autoscaling": ("3 scale", _desired_count),
    "MinCapacity equal to MaxCapacity": ("3 scale", _min_equals_max),
    "one task in prod": ("3 scale", _one_task_in_prod),
    "one NAT gateway for two AZs": ("3 scale", _one_nat),
    "initial model instances above the maximum": ("3 scale", _initial_instances_above_max),
    "retained table with a fixed name": ("4 redeploy", _fixed_table_name),
    "retained log group with a fixed name": ("4 redeploy", _fixed_log_group_name),
    "secret with a fixed name": ("4 redeploy", _fixed_secret_name),
    "no EventBridge rule": ("5 events", _no_rule),
    "rule target without the dead-letter queue": ("5 events", _no_dead_letters),
    "bus without a customer-managed key": ("5 events", _no_bus_key),
    "method changed, deployment not": ("6 api deployments", _method_changed),
    "AWS::ApiGateway::Account per environment": ("6 api deployments", _account_per_environment),
    "task egress to anywhere": ("7 egress", _egress_anywhere),
    "default allow-all egress left in place": ("7 egress", _default_egress),
    "NAT on by default": ("7 egress", _nat_by_default),
    "S3 endpoint for any bucket": ("7 egress", _open_s3_endpoint),
    "endpoint without a policy": ("7 egress", _endpoint_without_policy),
    "kms:Decrypt without kms:ViaService": ("8 least privilege and records", _kms_directly),
    "SageMaker role pulls any repository": ("8 least privilege and records", _any_repository),
    "decision logs deleted with the stack": ("8 least privilege and records", _decisions_deleted),
    "no backups beyond PITR": ("8 least privilege and records", _pitr_only),
    "stateful resource without policies (I3011)": ("9 stateful policies", _no_policies),
    "scratch mount uid 10001 cannot write": ("9 scratch mounts", _root_owned_scratch),
    "300 s deregistration delay": ("9 operational defaults", _slow_deregistration),
    "VPC link v1": ("9 operational defaults", _vpc_link_v1),
}


@pytest.mark.parametrize("defect", sorted(MUTATIONS))
def test_rule_fails_when_the_defect_comes_back(defect: str) -> None:
    rule, mutate = MUTATIONS[defect]
    templates = checks.mutable(TEMPLATES)
    mutate(templates)
    assert checks.RULES[rule](templates), f"rule {rule!r} did not notice: {defect}"


def test_every_item_of_the_issue_has_a_mutation() -> None:
    items = {rule.split()[0] for rule, _ in MUTATIONS.values()}
    assert items == {str(n) for n in range(1, 10)}
    assert {rule for rule, _ in MUTATIONS.values()} == set(checks.RULES)
