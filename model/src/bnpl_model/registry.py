"""A model registry in a folder: every version with its metrics, one champion, every change recorded.

Layout::

    <registry>/index.json                 {"champion": version | null, "versions": [...], "history": [...]}
    <registry>/versions/<version>/        the artifact (model.json, ...) and, for a challenger, report.{md,json}

``promote`` makes a registered version the champion and ``rollback`` returns to the champion
before it; both append to ``history`` (when, who, what, why) and nothing is ever deleted. The
model server serves ``champion_dir(registry)`` (``bnpl_model serve --registry``). In AWS the
same role is played by a SageMaker Model Package Group (``infra/cloudformation``).
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import shutil
from pathlib import Path
from typing import Any


class RegistryError(ValueError):
    pass


def _index_path(registry: Path) -> Path:
    return registry / "index.json"


def load(registry: str | Path) -> dict[str, Any]:
    path = _index_path(Path(registry))
    if not path.exists():
        return {"champion": None, "versions": [], "history": []}
    return json.loads(path.read_text(encoding="utf-8"))


def _save(registry: Path, index: dict[str, Any]) -> None:
    registry.mkdir(parents=True, exist_ok=True)
    tmp = _index_path(registry).with_suffix(".tmp")
    tmp.write_text(json.dumps(index, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, _index_path(registry))


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def version_dir(registry: str | Path, version: str) -> Path:
    return Path(registry) / "versions" / version


def register(
    registry: str | Path, artifact_dir: str | Path, *, role: str, metrics: dict[str, Any] | None = None
) -> str:
    """Copy an artifact into the registry (once per version); its version."""
    registry = Path(registry)
    model = json.loads((Path(artifact_dir) / "model.json").read_text(encoding="utf-8"))
    version = str(model["model_version"])
    index = load(registry)
    if any(v["version"] == version for v in index["versions"]):
        return version
    target = version_dir(registry, version)
    if Path(artifact_dir).resolve() != target.resolve():
        shutil.copytree(artifact_dir, target, dirs_exist_ok=True)
    index["versions"].append(
        {
            "version": version,
            "registeredAt": _now(),
            "role": role,
            "family": model.get("family"),
            "metrics": metrics or {},
        }
    )
    _save(registry, index)
    return version


def _record(index: dict[str, Any], action: str, version: str, reason: str, previous: str | None) -> None:
    index["history"].append(
        {
            "at": _now(),
            "action": action,
            "version": version,
            "previous": previous,
            "by": getpass.getuser(),
            "reason": reason,
        }
    )


def promote(registry: str | Path, version: str, *, reason: str) -> dict[str, Any]:
    registry = Path(registry)
    if not reason.strip():
        raise RegistryError("a promotion needs a reason")
    index = load(registry)
    if not any(v["version"] == version for v in index["versions"]):
        raise RegistryError(f"version {version!r} is not in the registry")
    if index["champion"] == version:
        raise RegistryError(f"{version} is the champion already")
    _record(index, "promote", version, reason, index["champion"])
    index["champion"] = version
    _save(registry, index)
    return index


def rollback(registry: str | Path, *, reason: str) -> dict[str, Any]:
    """Make the champion before the current one the champion again."""
    registry = Path(registry)
    index = load(registry)
    previous = next(
        (h["previous"] for h in reversed(index["history"]) if h["version"] == index["champion"] and h["previous"]),
        None,
    )
    if previous is None:
        raise RegistryError("there is no earlier champion to roll back to")
    _record(index, "rollback", previous, reason, index["champion"])
    index["champion"] = previous
    _save(registry, index)
    return index


def champion_dir(registry: str | Path) -> Path:
    index = load(registry)
    if not index["champion"]:
        raise RegistryError(f"no champion in {registry}")
    return version_dir(registry, index["champion"])
