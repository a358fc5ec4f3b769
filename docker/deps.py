"""Print the third-party requirements of the given pyproject.toml files, one per line.

The images install these first, in a layer of their own, so that a change of the platform's
source reuses the cached layer of its dependencies; the platform's own packages (``bnpl-*``)
are installed from source afterwards, without dependencies. Versions come from
constraints.txt, which the install step passes with ``-c``.

    python deps.py libs/common/pyproject.toml services/credit/pyproject.toml > requirements.txt
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

OWN_PREFIX = "bnpl-"


def requirements(paths: list[str]) -> list[str]:
    found: dict[str, str] = {}
    for path in paths:
        project = tomllib.loads(Path(path).read_text())["project"]
        for requirement in project.get("dependencies", []):
            name = re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")
            if not name.startswith(OWN_PREFIX):
                found.setdefault(name, requirement)
    return sorted(found.values())


if __name__ == "__main__":
    print("\n".join(requirements(sys.argv[1:])))
