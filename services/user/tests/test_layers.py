"""No module imports a module above it: the service's layers, bottom to top. A new module
must be given a layer here (the README's "where things live" follows the same order)."""

from __future__ import annotations

import ast
from pathlib import Path

import bnpl_user

LAYERS: list[set[str]] = [
    # foundations: errors, settings, country codes, the SMS port and its adapters
    {"", "countries", "errors", "persons", "settings", "notifier", "profiles", "verification", "storage", "staff"},
    # foundations: errors, settings, country codes, the SMS port and its adapters, the metrics
    {"", "countries", "errors", "settings", "notifier", "profiles", "verification", "storage", "metrics"},
    # records
    {"profiles.model", "verification.model", "staff.model"},
    # storage ports
    {"profiles.port", "verification.port", "storage.port", "staff.port"},
    # HTTP bodies and their mapping to records
    {"profiles.schemas", "verification.schemas", "staff.schemas", "staff.documents", "staff.cursor"},
    # the rules
    {"profiles.finances", "profiles.snapshot"},
    {"profiles.service", "verification.service", "staff.service"},
    # storage adapters: only the factory (and main, through it) may name them
    {"storage.sqlite_numbers", "storage.dynamodb_numbers"},
    {
        "storage.table",
        "storage.profile_json",
        "storage.sqlite",
        "storage.dynamodb",
        "storage.factory",
        "storage.sqlite_staff",
        "storage.dynamodb_staff",
    },
    # wiring: dependencies, routes, the app
    {"deps"},
    {"profiles.router", "verification.router", "staff.router"},
    {"main"},
    {"__main__", "testing", "profile_key"},
]

ROOT = Path(bnpl_user.__file__).parent


def _modules() -> dict[str, Path]:
    modules = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _imports(path: Path, known: set[str]) -> set[str]:
    """The modules of this package that ``path`` imports (relative to ``bnpl_user``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        for name in names:
            if name == "bnpl_user" or name.startswith("bnpl_user."):
                inner = name.removeprefix("bnpl_user").removeprefix(".")
                if inner in known:
                    found.add(inner)
    return found


def _layer(module: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if module in layer)


def test_every_module_has_a_layer() -> None:
    placed = set().union(*LAYERS)
    assert set(_modules()) == placed


def test_no_module_imports_a_module_above_it() -> None:
    modules = _modules()
    upward = [
        f"{module} (layer {_layer(module)}) imports {imported} (layer {_layer(imported)})"
        for module, path in sorted(modules.items())
        for imported in sorted(_imports(path, set(modules)))
        if _layer(imported) > _layer(module)
    ]
    assert upward == []


def test_the_check_sees_imports() -> None:
    modules = _modules()
    assert "storage.sqlite" in _imports(modules["storage.factory"], set(modules))
    assert "profiles.model" in _imports(
        modules["profiles.schemas"], set(modules)
    )  # "from bnpl_user.profiles import model"
    assert "notifier" in _imports(modules["deps"], set(modules))  # "from bnpl_user import notifier as ..."
