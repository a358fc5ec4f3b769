"""Every FastAPI dependency of the services is a coroutine function.

FastAPI runs a plain ``def`` dependency in its thread pool: one hand-off to a thread and back
per dependency and request, for functions that read an attribute of the app's state. The user
service's profile read paid three of them (a tenth of its CPU in the benchmark's profile). This
reads the services' sources and checks the function named in every ``Depends(...)``."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(p for p in ROOT.glob("services/*/src/**/*.py"))


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts  # services/<svc>/src/<pkg>/...
    return ".".join(parts[3:]).removesuffix(".__init__")


def _dependencies() -> list[tuple[str, bool | None]]:
    """Every ``Depends(name)`` in the services, with whether that function (defined in the same
    module or imported from one of ours) is ``async`` (``None``: not found)."""
    trees = {_module(path): (path, ast.parse(path.read_text(encoding="utf-8"))) for path in SOURCES}
    defined = {
        module: {
            node.name: isinstance(node, ast.AsyncFunctionDef)
            for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        for module, (_, tree) in trees.items()
    }
    found: list[tuple[str, bool | None]] = []
    for module, (path, tree) in trees.items():
        imported = {
            alias.asname or alias.name: node.module
            for node in tree.body
            if isinstance(node, ast.ImportFrom) and node.module
            for alias in node.names
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "Depends"
                and node.args
                and isinstance(node.args[0], ast.Name)
            ):
                name = node.args[0].id
                home = module if name in defined[module] else imported.get(name, "")
                found.append((f"{path.relative_to(ROOT)}: {name}", defined.get(home, {}).get(name)))
    return found


def test_every_dependency_is_async() -> None:
    found = _dependencies()
    assert len(found) > 20, "the services' dependencies were found"
    assert [where for where, is_async in found if is_async is None] == [], "every one was found"
    sync = sorted(where for where, is_async in found if is_async is False)
    assert sync == [], f"plain def dependencies (each runs in a worker thread per request): {sync}"
