"""Where the infra tests find the repository's files and the lint tools."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "infra" / "cloudformation").glob("*.yaml"))
SERVICE_DOCKERFILES = {name: ROOT / "services" / name / "Dockerfile" for name in ("gateway", "user", "credit")}
MODEL_DOCKERFILE = ROOT / "model" / "Dockerfile"
COMPOSE_FILE = ROOT / "docker-compose.yml"
# the public images' file and the override where no registry serves them
COMPOSE_FILES = (COMPOSE_FILE, ROOT / "docker-compose.no-registry.yml")
# The Compose Specification's JSON schema, as Debian's docker-compose 1.29 ships it (Apache-2.0).
COMPOSE_SCHEMA = ROOT / "compose" / "compose-spec.json"
MOTO_DOCKERFILE = ROOT / "docker" / "moto" / "Dockerfile"


def tool(name: str, *extra_dirs: Path) -> str | None:
    """A tool from this interpreter's venv, the extra dirs, or PATH."""
    for directory in (Path(sys.executable).parent, *extra_dirs):
        candidate = directory / name
        if candidate.exists() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(name)
