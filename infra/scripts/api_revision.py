"""Keep each REST API's deployment in step with the API in services.yaml.

An AWS::ApiGateway::Deployment is a snapshot taken when it is created: CloudFormation never
creates a new one while its logical id stays the same, so a changed method, integration or
resource policy would never go live. As AWS CDK does, the deployment's logical id ends with a
digest of everything the API is made of; change the API and the digest (so the id) changes,
CloudFormation creates a new deployment, points the stage at it and deletes the old one.

    python infra/scripts/api_revision.py            # check: exit 1 and say what to rename
    python infra/scripts/api_revision.py --write    # rename the deployments in services.yaml

(`make api-revision` runs the second; tests/infra checks the first.)
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

from cfnlint.decode import decode

SERVICES = Path(__file__).resolve().parents[1] / "cloudformation" / "services.yaml"
API_TYPES = {"AWS::ApiGateway::RestApi", "AWS::ApiGateway::Resource", "AWS::ApiGateway::Method"}
DIGEST_LENGTH = 10


def load(path: Path = SERVICES) -> dict[str, Any]:
    template, matches = decode(str(path))
    if template is None:
        raise SystemExit(f"{path}: {matches}")
    return template


def _refers_to(value: Any, logical_id: str) -> bool:
    if isinstance(value, dict):
        if value.get("Ref") == logical_id:
            return True
        getatt = value.get("Fn::GetAtt")
        if isinstance(getatt, list) and getatt and getatt[0] == logical_id:
            return True
        return any(_refers_to(v, logical_id) for v in value.values())
    if isinstance(value, list):
        return any(_refers_to(v, logical_id) for v in value)
    return False


def api_digest(template: dict[str, Any], api: str) -> str:
    """Digest of the RestApi and every resource and method that belongs to it."""
    resources = template["Resources"]
    parts = {
        name: {"Type": r["Type"], "Properties": r.get("Properties", {})}
        for name, r in resources.items()
        if name == api or (r["Type"] in API_TYPES and _refers_to(r.get("Properties", {}).get("RestApiId"), api))
    }
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:DIGEST_LENGTH]


def deployments(template: dict[str, Any]) -> dict[str, str]:
    """{deployment logical id: the RestApi it deploys}."""
    return {
        name: r["Properties"]["RestApiId"]["Ref"]
        for name, r in template["Resources"].items()
        if r["Type"] == "AWS::ApiGateway::Deployment"
    }


def expected_ids(template: dict[str, Any]) -> dict[str, str]:
    """{current deployment logical id: the id it must have}."""
    return {name: f"{api}Deployment{api_digest(template, api)}" for name, api in deployments(template).items()}


def main(argv: list[str]) -> int:
    template = load()
    renames = {old: new for old, new in expected_ids(template).items() if old != new}
    if not renames:
        print("every API deployment matches its API")
        return 0
    if "--write" not in argv:
        for old, new in renames.items():
            print(f"{SERVICES.name}: rename {old} to {new} (make api-revision)")
        return 1
    text = SERVICES.read_text()
    for old, new in renames.items():
        text = re.sub(rf"\b{re.escape(old)}\b", new, text)
    SERVICES.write_text(text)
    for old, new in renames.items():
        print(f"renamed {old} to {new}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
