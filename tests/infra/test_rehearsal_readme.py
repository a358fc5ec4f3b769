"""infra/README.md's walkthrough matches the templates and scripts: the stacks and their order,
every parameter, what `make destroy` retains, and the import that brings retained resources back."""

from __future__ import annotations

import importlib.util
import re
from typing import Any

import pytest

from tests.infra._paths import ROOT
from tests.infra.rules import checks

README = (ROOT / "infra" / "README.md").read_text()
DEPLOY = (ROOT / "infra" / "scripts" / "deploy.sh").read_text()
DESTROY = (ROOT / "infra" / "scripts" / "destroy.sh").read_text()
TEMPLATES = checks.load_all()


def section(title: str) -> str:
    start = README.index(f"### {title}\n")
    end = README.find("\n### ", start + 1)
    return README[start : end if end != -1 else None]


def test_the_stack_table_names_every_template_in_deploy_order() -> None:
    rows = re.findall(r"^\| (\w+) \| (\w+)\.yaml \|", README, re.MULTILINE)
    assert [t for _, t in rows] == [name for name, _ in rows]
    assert sorted(t for _, t in rows) == sorted(TEMPLATES)
    deployed = re.findall(r"^deploy (\w+)", DEPLOY, re.MULTILINE)
    assert ["account", *deployed] == [name for name, _ in rows]
    destroyed = re.search(r"for name in ([\w ]+); do", DESTROY)
    assert destroyed is not None
    assert destroyed.group(1).split() == list(reversed(deployed))
    assert '--template-file "$CFN/account.yaml"' in DEPLOY and "bnpl-account" not in DESTROY.split("set -euo")[1]


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_every_parameter_is_documented(template: str) -> None:
    parameters = section("Deploy")
    for name in TEMPLATES[template].get("Parameters", {}):
        assert f"`{name}`" in parameters, f"{template}.yaml parameter {name} is missing from the Deploy section"


def test_the_destroy_section_lists_exactly_what_is_retained() -> None:
    retained = {
        (name, logical)
        for name, template in TEMPLATES.items()
        if name != "account"
        for logical, resource in template["Resources"].items()
        if resource.get("DeletionPolicy") == "Retain"
    }
    table = section("Destroy")
    listed = {
        (row[1], logical)
        for row in re.findall(r"^\| (.+?) \| (\w+) \|", table, re.MULTILINE)
        for logical in re.findall(r"`(\w+)`", row[0])
    }
    assert listed == retained


def _import_tool() -> Any:
    spec = importlib.util.spec_from_file_location("import_retained", ROOT / "infra" / "scripts" / "import_retained.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("template", "resources"),
    [
        ("data", {"DataKey": "1234abcd-key", "CreditTable": "bnpl-dev-data-CreditTable-X", "UserTable": "t-Y"}),
        ("identity", {"UserPool": "eu-west-1_a", "StaffUserPool": "eu-west-1_b"}),
    ],
)
def test_the_documented_import_reduces_the_template_to_the_retained_resources(
    template: str, resources: dict[str, str]
) -> None:
    assert all(name in section("Redeploy after destroy") for name in resources)
    reduced, to_import = _import_tool().reduced(template, resources)
    assert set(reduced["Resources"]) == set(resources)
    assert all(r["DeletionPolicy"] == "Retain" for r in reduced["Resources"].values())
    assert {i["LogicalResourceId"] for i in to_import} == set(resources)
    assert sorted(i["ResourceIdentifier"].popitem()[1] for i in to_import) == sorted(resources.values())
