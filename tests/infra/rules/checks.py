"""Rules for what cfn-lint and checkov cannot see in infra/cloudformation: each one is a property
an AWS solutions architect checks by reading the templates (issue 19). A rule takes the decoded
templates ({name: template}, as cfnlint.decode reads them), evaluates them under every
parameter combination that matters (each environment, serverless or not, merchant API or not,
...) and returns its findings; no finding means the rule holds.

tests/infra/test_rehearsal_rules.py runs every rule on the real templates, and once more on a
copy with the defect put back, to prove the rule would catch it.
"""

from __future__ import annotations

import copy
import importlib.util
import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[3]
CFN = ROOT / "infra" / "cloudformation"
ENVS = ("dev", "staging", "prod")
NO_VALUE = object()

Templates = dict[str, dict[str, Any]]
Finding = str


def load_all() -> Templates:
    templates = {}
    for path in sorted(CFN.glob("*.yaml")):
        decoded, matches = decode(str(path))
        assert decoded is not None, matches
        templates[path.stem] = decoded
    return templates


def api_revision() -> Any:
    """infra/scripts/api_revision.py, the tool that names API deployments after their API."""
    spec = importlib.util.spec_from_file_location("api_revision", ROOT / "infra" / "scripts" / "api_revision.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- evaluating a template under parameter values -------------------------------------------


def _param_values(template: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, spec in template.get("Parameters", {}).items():
        value = given.get(name, spec.get("Default", f"<{name}>"))
        if spec.get("Type") == "CommaDelimitedList" and isinstance(value, str):
            value = [v for v in value.split(",")] if value else [""]
        values[name] = value
    return values


class Evaluated:
    """A template as CloudFormation would see it for these parameter values: conditions decided,
    Fn::If, FindInMap and parameter Refs replaced, resources whose condition is false dropped.
    Other intrinsics (GetAtt, Sub, ImportValue, Refs to resources) stay as they are."""

    def __init__(self, template: dict[str, Any], given: dict[str, Any]) -> None:
        self.template = template
        self.params = _param_values(template, given)
        self.conditions: dict[str, bool] = {}
        for name in template.get("Conditions", {}):
            self._condition(name)
        self.resources = {
            name: self.value(resource)
            for name, resource in template.get("Resources", {}).items()
            if "Condition" not in resource or self.conditions[resource["Condition"]]
        }

    def _condition(self, name: str) -> bool:
        if name not in self.conditions:
            self.conditions[name] = bool(self._test(self.template["Conditions"][name]))
        return self.conditions[name]

    def _test(self, node: Any) -> Any:
        if isinstance(node, dict) and len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Condition":
                return self._condition(arg)
            if key == "Fn::Equals":
                left, right = (self._test(a) for a in arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self._test(arg[0])
            if key == "Fn::And":
                return all(self._test(a) for a in arg)
            if key == "Fn::Or":
                return any(self._test(a) for a in arg)
        return self.value(node)

    def value(self, node: Any) -> Any:
        if isinstance(node, dict):
            if len(node) == 1:
                ((key, arg),) = node.items()
                if key == "Ref" and arg == "AWS::NoValue":
                    return NO_VALUE
                if key == "Ref" and arg in self.params:
                    return self.params[arg]
                if key == "Fn::If":
                    name, yes, no = arg
                    return self.value(yes if self._condition(name) else no)
                if key == "Fn::FindInMap":
                    mapping, first, second = (self.value(a) for a in arg)
                    return self.template["Mappings"][mapping][first][second]
                if key == "Fn::Join" and all(isinstance(v, str) for v in self._flat(self.value(arg[1]))):
                    return arg[0].join(self._flat(self.value(arg[1])))
            out = {k: self.value(v) for k, v in node.items()}
            return {k: v for k, v in out.items() if v is not NO_VALUE}
        if isinstance(node, list):
            return [v for v in (self.value(n) for n in node) if v is not NO_VALUE]
        return node

    @staticmethod
    def _flat(value: Any) -> list[Any]:
        return value if isinstance(value, list) else [value]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: r for k, r in self.resources.items() if r["Type"] == resource_type}


SCENARIOS: dict[str, list[dict[str, Any]]] = {
    "network": [{"EnvName": e, "EnableNatGateway": n} for e in ENVS for n in ("false", "true")],
    "identity": [{"EnvName": e, "SesIdentityArn": s} for e in ENVS for s in ("", "arn:aws:ses:eu-west-1:1:identity/x")],
    "data": [{"EnvName": e} for e in ENVS],
    "model": [{"EnvName": e, "Serverless": s} for e in ENVS for s in ("false", "true")],
    "services": [
        {"EnvName": e, "MerchantIntegrationRoleArns": m, "EnableWaf": w}
        for e, m, w in itertools.product(ENVS, ("", "arn:aws:iam::123456789012:role/merchant"), ("true", "false"))
    ],
    "alarms": [{"EnvName": e} for e in ENVS],
    "account": [{}],
}


def evaluations(templates: Templates, name: str, **fixed: Any) -> Iterator[tuple[dict[str, Any], Evaluated]]:
    for scenario in SCENARIOS[name]:
        given = {**scenario, **fixed}
        yield given, Evaluated(templates[name], given)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _refers(node: Any, logical_id: str) -> bool:
    return logical_id in json.dumps(node, default=str) and (
        f'"Ref": "{logical_id}"' in json.dumps(node, default=str)
        or f'"{logical_id}.' in json.dumps(node, default=str)
        or f'["{logical_id}", ' in json.dumps(node, default=str)
        or f"${{{logical_id}" in json.dumps(node, default=str)
    )


# ---- 1. the model endpoint ---------------------------------------------------------------------


def model_endpoint_is_deployable_and_warm(templates: Templates) -> list[Finding]:
    """A serverless variant has no network isolation, VPC or data capture, and provisioned
    concurrency; an instance variant is isolated, KMS-encrypted and autoscaled; the default is
    the instance variant (the credit service gives the scorer 2.0 s)."""
    findings = []
    default = templates["model"]["Parameters"]["Serverless"].get("Default")
    if default != "false":
        findings.append(f"model.yaml: Serverless defaults to {default!r}; the production default must be instances")
    for given, ev in evaluations(templates, "model"):
        (model,) = ev.of_type("AWS::SageMaker::Model").values()
        (config,) = ev.of_type("AWS::SageMaker::EndpointConfig").values()
        props, cfg = model["Properties"], config["Properties"]
        for variant in cfg["ProductionVariants"]:
            serverless = variant.get("ServerlessConfig")
            if serverless:
                if props.get("EnableNetworkIsolation") not in (False, "false"):
                    findings.append(f"{given}: serverless endpoint with network isolation (SageMaker refuses it)")
                if "VpcConfig" in props or "DataCaptureConfig" in cfg:
                    findings.append(f"{given}: serverless endpoint with VPC config or data capture")
                if int(serverless.get("ProvisionedConcurrency", 0) or 0) < 1:
                    findings.append(f"{given}: serverless endpoint without provisioned concurrency (cold starts)")
            else:
                if props.get("EnableNetworkIsolation") not in (True, "true"):
                    findings.append(f"{given}: instance-backed model without network isolation")
                if "KmsKeyId" not in cfg:
                    findings.append(f"{given}: instance-backed endpoint without the KMS volume key")
                targets = [
                    t
                    for t in ev.of_type("AWS::ApplicationAutoScaling::ScalableTarget").values()
                    if t["Properties"]["ServiceNamespace"] == "sagemaker"
                ]
                if not targets:
                    findings.append(f"{given}: instance-backed endpoint without autoscaling")
    return findings


# ---- 2. identity -------------------------------------------------------------------------------


def staff_identity_is_apart(templates: Templates) -> list[Finding]:
    """Staff groups live in a pool with no self-sign-up and MFA required; no app client allows
    USER_PASSWORD_AUTH; every pool runs threat protection (Plus, ENFORCED); refresh tokens last a
    day at most; prod sends mail through SES (the template's Rules refuse a prod without it)."""
    findings = []
    template = templates["identity"]
    for given, ev in evaluations(templates, "identity"):
        pools = ev.of_type("AWS::Cognito::UserPool")
        for name, pool in pools.items():
            p = pool["Properties"]
            if p.get("UserPoolTier") != "PLUS" or p.get("UserPoolAddOns", {}).get("AdvancedSecurityMode") != "ENFORCED":
                findings.append(f"{given}: {name} without threat protection (Plus tier, ENFORCED)")
            sending = p.get("EmailConfiguration", {}).get("EmailSendingAccount", "COGNITO_DEFAULT")
            if given["EnvName"] == "prod" and sending != "DEVELOPER" and not _rules_refuse(template, given):
                findings.append(f"{given}: {name} sends prod mail with Cognito's own mailer and nothing refuses it")
        for name, group in ev.of_type("AWS::Cognito::UserPoolGroup").items():
            pool_id = group["Properties"]["UserPoolId"].get("Ref")
            staff = pools.get(pool_id, {}).get("Properties", {})
            if (
                not staff.get("AdminCreateUserConfig", {}).get("AllowAdminCreateUserOnly")
                or staff.get("MfaConfiguration") != "ON"
            ):
                findings.append(f"{given}: staff group {name} in pool {pool_id}, which allows self-sign-up or no MFA")
        for name, client in ev.of_type("AWS::Cognito::UserPoolClient").items():
            c = client["Properties"]
            if "ALLOW_USER_PASSWORD_AUTH" in c.get("ExplicitAuthFlows", []):
                findings.append(f"{given}: {name} allows USER_PASSWORD_AUTH (the password on the wire)")
            unit = c.get("TokenValidityUnits", {}).get("RefreshToken", "days")
            hours = int(c.get("RefreshTokenValidity", 30)) * {"days": 24, "hours": 1, "minutes": 1 / 60}[unit]
            if hours > 24:
                findings.append(f"{given}: {name} refresh tokens last {hours:.0f} hours")
    return findings


def _rules_refuse(template: dict[str, Any], given: dict[str, Any]) -> bool:
    """Would the template's Rules section refuse these parameters (as CloudFormation does)?"""
    ev = Evaluated(template, given)
    for rule in template.get("Rules", {}).values():
        if "RuleCondition" in rule and not ev._test(rule["RuleCondition"]):
            continue
        if any(not ev._test(assertion["Assert"]) for assertion in rule["Assertions"]):
            return True
    return False


# ---- 3. scale ----------------------------------------------------------------------------------


def capacity_is_real_and_kept(templates: Templates) -> list[Finding]:
    """No DesiredCount on a service that autoscaling manages; every scalable target has room
    (Min < Max); prod and staging run at least two tasks and prod two model instances; the model's
    initial instance count lies within its scaling range; with a NAT there is one per AZ and each
    AZ's private subnets use their own."""
    findings = []
    for given, ev in evaluations(templates, "services"):
        targets = ev.of_type("AWS::ApplicationAutoScaling::ScalableTarget")
        for name, service in ev.of_type("AWS::ECS::Service").items():
            managed = [t for t in targets.values() if _refers(t["Properties"]["ResourceId"], name)]
            if managed and "DesiredCount" in service["Properties"]:
                findings.append(f"{given}: {name} sets DesiredCount beside autoscaling (updates reset the scale)")
            if not managed:
                findings.append(f"{given}: {name} has no autoscaling")
        for name, target in targets.items():
            findings += _capacity(given, name, target, 2 if given["EnvName"] in ("staging", "prod") else 1)
    for given, ev in evaluations(templates, "model", Serverless="false"):
        for name, target in ev.of_type("AWS::ApplicationAutoScaling::ScalableTarget").items():
            findings += _capacity(given, name, target, 2 if given["EnvName"] == "prod" else 1)
            low, high = int(target["Properties"]["MinCapacity"]), int(target["Properties"]["MaxCapacity"])
            for config in ev.of_type("AWS::SageMaker::EndpointConfig").values():
                for variant in config["Properties"]["ProductionVariants"]:
                    count = int(variant.get("InitialInstanceCount", low))
                    if not low <= count <= high:
                        findings.append(f"{given}: {count} initial instances outside the scaling range {low}-{high}")
    for given, ev in evaluations(templates, "network"):
        nats = ev.of_type("AWS::EC2::NatGateway")
        public = ev.of_type("AWS::EC2::Subnet")
        if given["EnableNatGateway"] == "true":
            azs = {json.dumps(s["Properties"]["AvailabilityZone"]) for s in public.values()}
            nat_azs = {
                json.dumps(public[n["Properties"]["SubnetId"]["Ref"]]["Properties"]["AvailabilityZone"])
                for n in nats.values()
            }
            if nat_azs != azs:
                findings.append(f"{given}: NAT gateways in {len(nat_azs)} of {len(azs)} AZs")
            findings += _private_routes_stay_in_their_az(given, ev)
    return findings


def _capacity(given: dict[str, Any], name: str, target: dict[str, Any], minimum: int) -> list[Finding]:
    low, high = int(target["Properties"]["MinCapacity"]), int(target["Properties"]["MaxCapacity"])
    found = []
    if low >= high:
        found.append(f"{given}: {name} MinCapacity {low} leaves autoscaling no room (MaxCapacity {high})")
    if low < minimum:
        found.append(f"{given}: {name} runs {low} at minimum; {given['EnvName']} needs {minimum}")
    return found


def _private_routes_stay_in_their_az(given: dict[str, Any], ev: Evaluated) -> list[Finding]:
    subnets = ev.of_type("AWS::EC2::Subnet")
    nats = ev.of_type("AWS::EC2::NatGateway")
    routes = [r["Properties"] for r in ev.of_type("AWS::EC2::Route").values() if "NatGatewayId" in r["Properties"]]
    found = []
    for assoc in ev.of_type("AWS::EC2::SubnetRouteTableAssociation").values():
        subnet = assoc["Properties"]["SubnetId"]["Ref"]
        table = assoc["Properties"]["RouteTableId"]["Ref"]
        for route in routes:
            if route["RouteTableId"]["Ref"] != table:
                continue
            nat_subnet = nats[route["NatGatewayId"]["Ref"]]["Properties"]["SubnetId"]["Ref"]
            if (
                subnets[nat_subnet]["Properties"]["AvailabilityZone"]
                != subnets[subnet]["Properties"]["AvailabilityZone"]
            ):
                found.append(f"{given}: {subnet} routes through a NAT in another AZ")
    return found


# ---- 4. redeploy after destroy -----------------------------------------------------------------

# Types whose name is unique in the account and region (or in a recovery window): a retained one
# with a fixed name stops the next deploy of the same environment.
NAME_PROPERTIES = {
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::SQS::Queue": "QueueName",
    "AWS::Backup::BackupVault": "BackupVaultName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::S3::Bucket": "BucketName",
}


def retained_resources_never_block_a_redeploy(templates: Templates) -> list[Finding]:
    """A retained resource (or a secret, whose name outlives it for its recovery window) has no
    fixed name, or one made unique by the stack's id."""
    findings = []
    for template_name, template in templates.items():
        for name, resource in template["Resources"].items():
            prop = NAME_PROPERTIES.get(resource["Type"])
            if not prop or prop not in resource.get("Properties", {}):
                continue
            outlives = resource.get("DeletionPolicy") == "Retain" or resource["Type"] == "AWS::SecretsManager::Secret"
            if outlives and "AWS::StackId" not in json.dumps(resource["Properties"][prop], default=str):
                findings.append(f"{template_name}.yaml {name}: retained with the fixed {prop}")
    return findings


# ---- 5. events ---------------------------------------------------------------------------------


def events_go_somewhere(templates: Templates) -> list[Finding]:
    """The bus has a customer-managed key; a rule on it sends events to a target whose failures
    go to the dead-letter queue that alarms.yaml watches."""
    findings = []
    ev = Evaluated(templates["data"], {"EnvName": "dev"})
    buses = ev.of_type("AWS::Events::EventBus")
    if not buses:
        return ["data.yaml: no event bus"]
    dlq_export = [
        o["Value"] for o in templates["data"]["Outputs"].values() if "EventsDlqName" in json.dumps(o.get("Export", {}))
    ]
    watched = dlq_export[0]["Fn::GetAtt"][0] if dlq_export else None
    for bus_name, bus in buses.items():
        if "KmsKeyIdentifier" not in bus["Properties"]:
            findings.append(f"data.yaml {bus_name}: no customer-managed key")
        rules = [
            r
            for r in ev.of_type("AWS::Events::Rule").values()
            if _refers(r["Properties"].get("EventBusName"), bus_name)
        ]
        if not rules:
            findings.append(
                f"data.yaml {bus_name}: no rule, so no event is delivered and the dead-letter queue never fills"
            )
        for rule in rules:
            for target in rule["Properties"].get("Targets", []):
                dlq = target.get("DeadLetterConfig", {}).get("Arn", {})
                if not watched or not _refers(dlq, watched):
                    findings.append(f"data.yaml: target {target['Id']} without the watched dead-letter queue")
    alarms = json.dumps(templates["alarms"]["Resources"], default=str)
    if "EventsDlqName" not in alarms:
        findings.append("alarms.yaml: nothing watches the event dead-letter queue")
    return findings


# ---- 6. API deployments and account settings ---------------------------------------------------


def api_changes_go_live(templates: Templates) -> list[Finding]:
    """Each REST API deployment's logical id carries the digest of its API (a change redeploys),
    and no environment stack owns the account-wide AWS::ApiGateway::Account."""
    findings = []
    tool = api_revision()
    for old, new in tool.expected_ids(templates["services"]).items():
        if old != new:
            findings.append(
                f"services.yaml: deployment {old} does not follow its API; `make api-revision` renames it {new}"
            )
    for name, template in templates.items():
        for logical, resource in template["Resources"].items():
            if resource["Type"] != "AWS::ApiGateway::Account":
                continue
            if name != "account" or resource.get("DeletionPolicy") != "Retain":
                findings.append(
                    f"{name}.yaml {logical}: the account-wide API Gateway setting in a stack that may be deleted"
                )
            if "EnvName" in template.get("Parameters", {}):
                findings.append(
                    f"{name}.yaml {logical}: the account-wide API Gateway setting in a per-environment stack"
                )
    return findings


# ---- 7. egress ---------------------------------------------------------------------------------


def egress_is_closed(templates: Templates) -> list[Finding]:
    """With default parameters no security group sends anywhere but to a security group or a
    prefix list (127.0.0.1/32 is the placeholder that removes EC2's default rule), a group whose
    rules are separate resources has that placeholder, the NAT is off by default, and every VPC
    endpoint has a policy (the S3 one naming its bucket)."""
    findings = []
    nat_default = templates["network"]["Parameters"]["EnableNatGateway"].get("Default")
    if nat_default != "false":
        findings.append(f"network.yaml: EnableNatGateway defaults to {nat_default}")
    for name in ("network", "services"):
        ev = Evaluated(templates[name], {"EnvName": "prod"})
        groups = ev.of_type("AWS::EC2::SecurityGroup")
        for logical, group in groups.items():
            rules = group["Properties"].get("SecurityGroupEgress")
            if rules is None:
                findings.append(f"{name}.yaml {logical}: no inline egress, so EC2's allow-all rule stays")
            for rule in rules or []:
                findings += _closed(name, logical, rule)
        for logical, rule in ev.of_type("AWS::EC2::SecurityGroupEgress").items():
            findings += _closed(name, logical, rule["Properties"])
        for logical, endpoint in ev.of_type("AWS::EC2::VPCEndpoint").items():
            policy = endpoint["Properties"].get("PolicyDocument")
            if not policy:
                findings.append(f"{name}.yaml {logical}: VPC endpoint without a policy")
                continue
            for st in policy["Statement"]:
                if st["Effect"] == "Allow" and ("*" in _as_list(st["Action"]) or "s3:*" in _as_list(st["Action"])):
                    findings.append(f"{name}.yaml {logical}: endpoint policy allows every action")
                if "s3" in json.dumps(endpoint["Properties"]["ServiceName"]) and "*" in _as_list(st["Resource"]):
                    findings.append(f"{name}.yaml {logical}: S3 endpoint policy allows any bucket")
    return findings


def _closed(template: str, logical: str, rule: dict[str, Any]) -> list[Finding]:
    if "DestinationSecurityGroupId" in rule or "DestinationPrefixListId" in rule:
        return []
    if rule.get("CidrIp") == "127.0.0.1/32":
        return []
    if "Fn::ImportValue" in json.dumps(rule.get("CidrIp", "")) and rule.get("FromPort") != 443:
        return []  # inside the VPC (its CIDR), to a service port
    return [
        f"{template}.yaml {logical}: egress to {rule.get('CidrIp') or rule.get('CidrIpv6')} port {rule.get('FromPort')}"
    ]


# ---- 8. least privilege and records ------------------------------------------------------------


def least_privilege_and_records(templates: Templates) -> list[Finding]:
    """Task roles use KMS only through a named service (kms:ViaService); the SageMaker role pulls
    only its own repository; the log groups that are records are retained; the tables are backed
    up beyond the 35 days of point-in-time recovery."""
    findings = []
    services = templates["services"]["Resources"]
    task_roles = {
        r["Properties"]["TaskRoleArn"]["Fn::GetAtt"][0]
        for r in services.values()
        if r["Type"] == "AWS::ECS::TaskDefinition"
    }
    for role in sorted(task_roles):
        for policy in services[role]["Properties"].get("Policies", []):
            for st in policy["PolicyDocument"]["Statement"]:
                kms = [a for a in _as_list(st["Action"]) if a.startswith("kms:")]
                if kms and st["Effect"] == "Allow" and "kms:ViaService" not in json.dumps(st.get("Condition", {})):
                    findings.append(f"services.yaml {role}: {kms} directly, without kms:ViaService")
    model_role = templates["model"]["Resources"]["ExecutionRole"]["Properties"]
    for policy in model_role["Policies"]:
        for st in policy["PolicyDocument"]["Statement"]:
            pulls = any(a.startswith("ecr:") and a != "ecr:GetAuthorizationToken" for a in _as_list(st["Action"]))
            if pulls and json.dumps(st["Resource"], default=str).rstrip('"}]').endswith("repository/*"):
                findings.append("model.yaml ExecutionRole: may pull any ECR repository of the account")
    for logical in ("CreditLogs", "InternalApiLogs", "MerchantApiLogs"):
        resource = services.get(logical, {})
        if resource.get("DeletionPolicy") != "Retain" or resource.get("UpdateReplacePolicy") != "Retain":
            findings.append(f"services.yaml {logical}: a record (decisions, audit, API access) deleted with the stack")
    data = Evaluated(templates["data"], {"EnvName": "prod"})
    tables = set(data.of_type("AWS::DynamoDB::Table"))
    selected: set[str] = set()
    longest = 0
    for plan in data.of_type("AWS::Backup::BackupPlan").values():
        for rule in plan["Properties"]["BackupPlan"]["BackupPlanRule"]:
            longest = max(longest, int(rule.get("Lifecycle", {}).get("DeleteAfterDays", 0)))
    for selection in data.of_type("AWS::Backup::BackupSelection").values():
        for arn in selection["Properties"]["BackupSelection"].get("Resources", []):
            selected |= {t for t in tables if _refers(arn, t)}
    if tables - selected:
        findings.append(f"data.yaml: tables without a backup plan: {sorted(tables - selected)}")
    if longest <= 35:
        findings.append(f"data.yaml: backups kept {longest} days, no longer than point-in-time recovery")
    return findings


# ---- 9. the smaller ones -----------------------------------------------------------------------

STATEFUL = {
    "AWS::DynamoDB::Table",
    "AWS::KMS::Key",
    "AWS::Logs::LogGroup",
    "AWS::SQS::Queue",
    "AWS::SecretsManager::Secret",
    "AWS::Cognito::UserPool",
    "AWS::Backup::BackupVault",
    "AWS::S3::Bucket",
}


def stateful_resources_say_what_happens_to_them(templates: Templates) -> list[Finding]:
    return [
        f"{t}.yaml {name}: {resource['Type']} without explicit DeletionPolicy and UpdateReplacePolicy"
        for t, template in templates.items()
        for name, resource in template["Resources"].items()
        if resource["Type"] in STATEFUL and not {"DeletionPolicy", "UpdateReplacePolicy"} <= set(resource)
    ]


def scratch_mounts_are_writable(templates: Templates) -> list[Finding]:
    """A container running as a non-root user that mounts a task volume waits for a container
    that hands every one of those mounts to that user (Fargate mounts them root-owned, 0755)."""
    findings = []
    for name, task in templates["services"]["Resources"].items():
        if task["Type"] != "AWS::ECS::TaskDefinition":
            continue
        containers = {c["Name"]: c for c in task["Properties"]["ContainerDefinitions"]}
        for c in containers.values():
            user = str(c.get("User", "0")).split(":")[0]
            mounts = [m["ContainerPath"] for m in c.get("MountPoints", [])]
            if user in ("0", "root") or not mounts:
                continue
            ready = [
                containers[d["ContainerName"]]
                for d in c.get("DependsOn", [])
                if d.get("Condition") == "SUCCESS" and d["ContainerName"] in containers
            ]
            command = " ".join(
                " ".join(map(str, r.get("Command", []))) for r in ready if str(r.get("User", "0")).startswith("0")
            )
            for path in mounts:
                if path not in command or f"{user}" not in command:
                    findings.append(
                        f"services.yaml {name}/{c['Name']}: {path} stays root-owned; uid {user} cannot write it"
                    )
    return findings


def small_operational_defaults(templates: Templates) -> list[Finding]:
    """Target groups deregister within a minute; no VPC link v1; the ECR repositories get a
    lifecycle policy (deploy.sh applies infra/ecr-lifecycle-policy.json to each)."""
    findings = []
    for name, tg in templates["services"]["Resources"].items():
        if tg["Type"] != "AWS::ElasticLoadBalancingV2::TargetGroup":
            continue
        attrs = {a["Key"]: a["Value"] for a in tg["Properties"].get("TargetGroupAttributes", [])}
        delay = int(attrs.get("deregistration_delay.timeout_seconds", 300))
        if delay > 60:
            findings.append(f"services.yaml {name}: deregistration delay {delay} s")
    for t, template in templates.items():
        for name, resource in template["Resources"].items():
            if resource["Type"] == "AWS::ApiGateway::VpcLink":
                findings.append(
                    f"{t}.yaml {name}: VPC link v1 (a PrivateLink endpoint service; use AWS::ApiGatewayV2::VpcLink)"
                )
    policy_file = ROOT / "infra" / "ecr-lifecycle-policy.json"
    deploy = (ROOT / "infra" / "scripts" / "deploy.sh").read_text()
    if not policy_file.exists() or "put-lifecycle-policy" not in deploy or policy_file.name not in deploy:
        findings.append("no ECR lifecycle policy applied by infra/scripts/deploy.sh")
    else:
        rules = json.loads(policy_file.read_text())["rules"]
        if not any(r["selection"]["tagStatus"] == "untagged" for r in rules) or not any(
            r["selection"]["countType"] == "imageCountMoreThan" for r in rules
        ):
            findings.append("infra/ecr-lifecycle-policy.json: expire untagged images and keep a bounded count")
    return findings


RULES: dict[str, Callable[[Templates], list[Finding]]] = {
    "1 model endpoint": model_endpoint_is_deployable_and_warm,
    "2 staff identity": staff_identity_is_apart,
    "3 scale": capacity_is_real_and_kept,
    "4 redeploy": retained_resources_never_block_a_redeploy,
    "5 events": events_go_somewhere,
    "6 api deployments": api_changes_go_live,
    "7 egress": egress_is_closed,
    "8 least privilege and records": least_privilege_and_records,
    "9 stateful policies": stateful_resources_say_what_happens_to_them,
    "9 scratch mounts": scratch_mounts_are_writable,
    "9 operational defaults": small_operational_defaults,
}


def mutable(templates: Templates) -> Templates:
    return copy.deepcopy(templates)
