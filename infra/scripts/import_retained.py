"""Bring retained resources back under a new stack after `make destroy` (CloudFormation import).

`make destroy` keeps the tables, the user pools and the data key (DeletionPolicy: Retain), and a
plain `make deploy` then creates new, empty ones beside them. To carry on with the old ones
instead, create the stack by importing them first, then deploy as usual:

    python infra/scripts/import_retained.py --env dev --template data \\
        DataKey=<key id> CreditTable=<table name> UserTable=<table name>
    python infra/scripts/import_retained.py --env dev --template identity \\
        UserPool=<pool id> StaffUserPool=<pool id>

Each run writes build/<template>-import.yaml (the template reduced to those resources) and
build/<template>-import.json (their identifiers), and prints the two AWS CLI commands that create
bnpl-<env>-<template> from them. Run those before `make deploy`, which then adds the rest of the
stack. An import cannot create anything, so the reduced template holds only the named resources;
each must be retained in the template (the import would otherwise be refused later on delete).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[2]
CFN = ROOT / "infra" / "cloudformation"
# The identifier CloudFormation's import asks for, per resource type.
IDENTIFIERS = {
    "AWS::DynamoDB::Table": "TableName",
    "AWS::KMS::Key": "KeyId",
    "AWS::Cognito::UserPool": "UserPoolId",
}


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["Ref"]} if isinstance(node.get("Ref"), str) else set()
        if "Fn::GetAtt" in node:
            found.add(node["Fn::GetAtt"][0])
        if "Fn::Sub" in node:
            text = node["Fn::Sub"] if isinstance(node["Fn::Sub"], str) else node["Fn::Sub"][0]
            found |= {part.split("}")[0].split(".")[0] for part in text.split("${")[1:]}
        return found | {r for v in node.values() for r in _refs(v)}
    if isinstance(node, list):
        return {r for v in node for r in _refs(v)}
    return set()


def reduced(template_name: str, physical_ids: dict[str, str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The import template and the resources-to-import list for these logical ids."""
    template, matches = decode(str(CFN / f"{template_name}.yaml"))
    if template is None:
        raise SystemExit(f"{template_name}.yaml: {matches}")
    resources = template["Resources"]
    to_import = []
    for logical, physical in physical_ids.items():
        resource = resources.get(logical)
        if resource is None:
            raise SystemExit(f"{template_name}.yaml has no resource {logical}")
        if resource.get("DeletionPolicy") != "Retain" or resource["Type"] not in IDENTIFIERS:
            raise SystemExit(f"{logical} is not a retained resource this script can import")
        to_import.append(
            {
                "ResourceType": resource["Type"],
                "LogicalResourceId": logical,
                "ResourceIdentifier": {IDENTIFIERS[resource["Type"]]: physical},
            }
        )
    kept = {name: resources[name] for name in physical_ids}
    for name, resource in kept.items():
        outside = _refs(resource) - set(kept) - set(template.get("Parameters", {})) - {"AWS::NoValue"}
        outside = {r for r in outside if not r.startswith("AWS::")}
        if outside:
            raise SystemExit(f"{name} refers to {sorted(outside)}: import them together")
    used = set().union(*(_refs(r) for r in kept.values()))
    for condition in template.get("Conditions", {}).values():
        used |= _refs(condition)
    out: dict[str, Any] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"import of retained {template_name} resources",
    }
    params = {k: v for k, v in template.get("Parameters", {}).items() if k in used or k == "EnvName"}
    if params:
        out["Parameters"] = params
    if template.get("Conditions"):
        out["Conditions"] = template["Conditions"]
    out["Resources"] = kept
    return out, to_import


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", required=True, choices=["dev", "staging", "prod"])
    parser.add_argument("--template", required=True, choices=["data", "identity"])
    parser.add_argument("resources", nargs="+", metavar="LogicalId=PhysicalId")
    args = parser.parse_args(argv)
    physical_ids = dict(item.split("=", 1) for item in args.resources)
    template, to_import = reduced(args.template, physical_ids)
    build = ROOT / "build"
    build.mkdir(exist_ok=True)
    template_path = build / f"{args.template}-import.yaml"
    resources_path = build / f"{args.template}-import.json"
    template_path.write_text(json.dumps(template, indent=2, default=str))  # JSON is YAML
    resources_path.write_text(json.dumps(to_import, indent=2))
    stack = f"bnpl-{args.env}-{args.template}"
    print(
        f"aws cloudformation create-change-set --stack-name {stack} --change-set-name import-retained "
        f"--change-set-type IMPORT --template-body file://{template_path.relative_to(ROOT)} "
        f"--resources-to-import file://{resources_path.relative_to(ROOT)} "
        f"--parameters ParameterKey=EnvName,ParameterValue={args.env} --capabilities CAPABILITY_IAM\n"
        f"aws cloudformation execute-change-set --stack-name {stack} --change-set-name import-retained"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
