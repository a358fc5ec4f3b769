"""Deploy rehearsal with no AWS account: every stack of infra/cloudformation is created, in
`make deploy`'s order and with its parameters, on moto's CloudFormation (in process). A broken
Ref, GetAtt, Sub, parameter, condition, export or import fails a stack here as it would on AWS.
Then the environment is destroyed (make destroy's order) and deployed again: what the stacks
retain must not stop the redeploy (issue 19, item 4). The network stack, which retains nothing,
stays up across that cycle: moto cannot delete a VPC's route tables and endpoints.

moto lacks a few resource types and one intrinsic; tests/infra/rules/moto_shims.py documents the
stand-ins (every property of a stand-in is still resolved by moto, so its references are checked
too).
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError
from cfnlint.decode import decode
from moto import mock_aws

from tests.infra._paths import ROOT
from tests.infra.rules import moto_shims

REGION = "eu-west-1"
ACCOUNT = "123456789012"
ENV = "dev"
CFN = ROOT / "infra" / "cloudformation"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/bnpl"
TAG = "0123456789ab"
# Every optional part on: serverless model, NATs and internet egress, merchant API, SES mail.
ALL_OPTIONS = {
    "network": {"EnableNatGateway": "true"},
    "identity": {
        "SesIdentityArn": f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/example.com",
        "EmailFrom": "no-reply@example.com",
    },
    "model": {"Serverless": "true"},
    "services": {
        "AllowInternetEgress": "true",
        "MerchantIntegrationRoleArns": f"arn:aws:iam::{ACCOUNT}:role/merchant-a,arn:aws:iam::{ACCOUNT}:role/merchant-b",
        "MerchantPrincipals": f"arn:aws:iam::{ACCOUNT}:role/merchant-a=m-a,arn:aws:iam::{ACCOUNT}:role/merchant-b=m-b",
    },
    "alarms": {"AlarmEmail": "ops@example.com"},
}


def stacks(env: str, options: dict[str, dict[str, str]] | None = None) -> list[tuple[str, str, dict[str, str]]]:
    """(template, stack name, parameters), in infra/scripts/deploy.sh's order. CertificateArn is
    filled with a certificate the rehearsal requests first (deploy.sh's prerequisite)."""
    options = options or {}
    model = {
        "ModelImageUri": f"{REGISTRY}/model:{TAG}",
        "ModelDataUrl": f"s3://artifacts/bnpl/{env}/model-{TAG}.tar.gz",
        "ModelVersion": TAG,
    }
    base = {
        "account": {},
        "network": {"DynamoDbPrefixListId": "pl-0d0d0d0d", "S3PrefixListId": "pl-05050505"},
        "identity": {},
        "data": {},
        "model": model,
        "services": {"ImageRegistry": REGISTRY, "ImageTag": TAG},
        "alarms": {},
    }
    return [
        (name, "bnpl-account" if name == "account" else f"bnpl-{env}-{name}", {**params, **options.get(name, {})})
        for name, params in base.items()
    ]


STACKS = stacks(ENV)
ACCOUNT_WIDE = {"bnpl-account"}  # shared by every environment: destroy.sh leaves it
# moto cannot delete our VPC (moto_shims says why); the network stack retains nothing, so the
# destroy-and-redeploy cycle keeps it and cycles every stack that does retain something.
KEPT = ACCOUNT_WIDE | {f"bnpl-{ENV}-network"}


def _template(name: str) -> dict[str, Any]:
    template, matches = decode(str(CFN / f"{name}.yaml"))
    assert template is not None, matches
    return template


# Templates reach moto as JSON decoded by cfn-lint (as CloudFormation reads the YAML): moto's own
# YAML loader misreads the `!Condition` short form, and the merchant API's WAF association, whose
# condition is an !And of two !Condition, would silently never be created.
def _imports(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        if "Fn::ImportValue" in value:
            yield value["Fn::ImportValue"]
        for v in value.values():
            yield from _imports(v)
    elif isinstance(value, list):
        for v in value:
            yield from _imports(v)


def _import_names(name: str, env: str = ENV) -> set[str]:
    names = set()
    for value in _imports(_template(name)["Resources"]):
        sub = value["Fn::Sub"] if isinstance(value, dict) else value
        names.add(str(sub).replace("${EnvName}", env))
    return names


def _export_names(name: str, env: str = ENV) -> set[str]:
    outputs = _template(name).get("Outputs", {})
    return {str(o["Export"]["Name"]["Fn::Sub"]).replace("${EnvName}", env) for o in outputs.values() if "Export" in o}


class Rehearsal:
    def __init__(self) -> None:
        self.cf = boto3.client("cloudformation", region_name=REGION)
        self.certificate = boto3.client("acm", region_name=REGION).request_certificate(DomainName="pay.example.com")[
            "CertificateArn"
        ]

    def create(self, template: str, stack: str, parameters: dict[str, str]) -> dict[str, Any]:
        params = dict(parameters)
        if template != "account":
            params["EnvName"] = stack.split("-")[1]
        if template == "services":
            params["CertificateArn"] = self.certificate
        self.cf.create_stack(
            StackName=stack,
            TemplateBody=json.dumps(_template(template), default=str),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
            Capabilities=["CAPABILITY_IAM"],
        )
        return self.cf.describe_stacks(StackName=stack)["Stacks"][0]

    def deploy_all(self) -> list[dict[str, Any]]:
        return [self.create(*spec) for spec in STACKS]

    def destroy_all(self) -> None:
        for _, stack, _ in reversed(STACKS):
            if stack not in KEPT:
                self.cf.delete_stack(StackName=stack)

    def exports(self) -> dict[str, str]:
        return {e["Name"]: e["Value"] for e in self.cf.list_exports()["Exports"]}


@pytest.fixture(scope="module")
def rehearsal(monkeypatch_module: pytest.MonkeyPatch) -> Iterator[Rehearsal]:
    types = {r["Type"] for name, *_ in STACKS for r in _template(name)["Resources"].values()}
    with mock_aws(), moto_shims.installed(types), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # moto warns about every stand-in type on every parse
        yield Rehearsal()


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as mp:
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": REGION,
        }.items():
            mp.setenv(name, value)
        mp.delenv("AWS_PROFILE", raising=False)
        mp.delenv("AWS_ENDPOINT_URL", raising=False)
        yield mp


def test_every_stack_deploys_in_order_then_destroys_and_deploys_again(rehearsal: Rehearsal) -> None:
    first = rehearsal.deploy_all()
    assert [s["StackStatus"] for s in first] == ["CREATE_COMPLETE"] * len(STACKS), first
    exports = rehearsal.exports()

    # every import of every template names an export some earlier stack made, and every export
    # resolved to a value (no unresolved ${...}, no Python object)
    made: set[str] = set()
    for name, stack, _ in STACKS:
        missing = _import_names(name) - made
        assert not missing, f"{stack} imports {sorted(missing)} before any stack exports them"
        made |= _export_names(name)
    assert made <= set(exports), sorted(made - set(exports))
    for export, value in exports.items():
        assert value and "${" not in value and " object at 0x" not in value, (export, value)

    # what moto could not create was still resolved in full
    for key, stand_in in moto_shims.STAND_INS.items():
        text = json.dumps(stand_in["properties"], default=str)
        # Glue's partition projection template is itself written with ${...} (data.yaml, LakeEventsTable)
        text = re.sub(r'"storage\.location\.template": "s3://[^"]*/events/type=\$\{type\}/date=\$\{date\}/"', "", text)
        assert "${" not in text and " object at 0x" not in text, (key, stand_in["type"], text[:400])

    # the retained resources stay, and nothing retained stops the same environment coming back
    rehearsal.destroy_all()
    remaining = {
        s["StackName"] for s in rehearsal.cf.list_stacks()["StackSummaries"] if s["StackStatus"] != "DELETE_COMPLETE"
    }
    assert remaining == KEPT
    tables = boto3.client("dynamodb", region_name=REGION).list_tables()["TableNames"]
    assert len([t for t in tables if t.startswith(f"bnpl-{ENV}-data-")]) == 2, tables  # retained
    again = [rehearsal.create(*spec) for spec in STACKS if spec[1] not in KEPT]
    assert [s["StackStatus"] for s in again] == ["CREATE_COMPLETE"] * (len(STACKS) - len(KEPT)), again
    tables = boto3.client("dynamodb", region_name=REGION).list_tables()["TableNames"]
    assert len([t for t in tables if t.startswith(f"bnpl-{ENV}-data-")]) == 4, tables  # old kept, new created


def test_a_retained_table_with_a_fixed_name_would_stop_the_redeploy(rehearsal: Rehearsal) -> None:
    """The failure item 4 describes, reproduced on the same emulator: proof that the rehearsal's
    redeploy would catch a fixed name coming back."""
    template = (CFN / "data.yaml").read_text()
    fixed = re.sub(
        r"(  CreditTable:\n    Type: AWS::DynamoDB::Table\n(?:    .*\n)*?    Properties:\n)",
        r"\1      TableName: !Sub bnpl-${EnvName}-credit-fixed\n",
        template,
    )
    assert "bnpl-${EnvName}-credit-fixed" in fixed
    cf = rehearsal.cf
    params = [{"ParameterKey": "EnvName", "ParameterValue": "staging"}]
    create = {"StackName": "bnpl-staging-data", "TemplateBody": fixed, "Parameters": params}
    cf.create_stack(**create, Capabilities=["CAPABILITY_IAM"])
    cf.delete_stack(StackName="bnpl-staging-data")
    # moto passes DynamoDB's own error through, which botocore cannot parse as CloudFormation's
    with pytest.raises((ClientError, ResponseParserError), match=r"Table already exists"):
        cf.create_stack(**create, Capabilities=["CAPABILITY_IAM"])


def test_prod_with_every_option_deploys(rehearsal: Rehearsal) -> None:
    """The conditional parts (serverless model, NAT per AZ, internet egress, merchant API, SES,
    alarm e-mail) resolve too: prod, every option on, beside the dev environment."""
    existing = {
        s["StackName"] for s in rehearsal.cf.list_stacks()["StackSummaries"] if s["StackStatus"] != "DELETE_COMPLETE"
    }
    created = [rehearsal.create(*spec) for spec in stacks("prod", ALL_OPTIONS) if spec[1] not in existing]
    assert [s["StackStatus"] for s in created] == ["CREATE_COMPLETE"] * len(created), created
    exports = rehearsal.exports()
    for name, _, _ in STACKS:
        assert _export_names(name, "prod") <= set(exports)
    merchant = [
        v
        for k, v in moto_shims.STAND_INS.items()
        if "bnpl-prod-services" in k and k.endswith("/WebAclMerchantApiAssociation")
    ]
    assert merchant and "/restapis/" in merchant[0]["properties"]["ResourceArn"]
    for key, stand_in in moto_shims.STAND_INS.items():
        text = json.dumps(stand_in["properties"], default=str)
        # Glue's partition projection template is itself written with ${...} (data.yaml, LakeEventsTable)
        text = re.sub(r'"storage\.location\.template": "s3://[^"]*/events/type=\$\{type\}/date=\$\{date\}/"', "", text)
        assert "${" not in text and " object at 0x" not in text, (key, stand_in["type"], text[:400])
