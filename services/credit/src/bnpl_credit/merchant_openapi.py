"""The merchant API's OpenAPI document (only ``/v1/merchant/*``), committed beside the service as
``merchant-openapi.json``: ``python -m bnpl_credit.merchant_openapi`` (``make merchant-openapi``)
writes it; a test fails when the code and the file drift."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bnpl_credit.main import create_app

DOCUMENT_PATH = Path(__file__).resolve().parents[2] / "merchant-openapi.json"
PREFIX = "/v1/merchant/"

DESCRIPTION = (
    "Server-to-server API of merchants: checkout sessions, capture, void and refunds. Every call is "
    "SigV4-signed for `execute-api` with one of the merchant's keys and carries a signed, single-use "
    "`X-Bnpl-Nonce`; every POST takes an `Idempotency-Key`. Another merchant's object is a 404."
)


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[-1]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node)) if node else set()
    return set()


def merchant_openapi() -> dict[str, Any]:
    """The service's document cut down to the merchant routes and the schemas they use."""
    full = create_app(background=False).openapi()
    paths = {path: item for path, item in full["paths"].items() if path.startswith(PREFIX)}
    schemas: dict[str, Any] = full.get("components", {}).get("schemas", {})
    wanted, todo = set(), _refs(paths)
    while todo:
        name = todo.pop()
        if name not in wanted and name in schemas:
            wanted.add(name)
            todo |= _refs(schemas[name])
    return {
        "openapi": full["openapi"],
        "info": {"title": "BNPL merchant API", "version": full["info"]["version"], "description": DESCRIPTION},
        "paths": paths,
        "components": {"schemas": {name: schemas[name] for name in sorted(wanted)}},
    }


def render() -> str:
    return json.dumps(merchant_openapi(), indent=2, sort_keys=True) + "\n"


def main() -> None:
    if "--check" in sys.argv:
        if not DOCUMENT_PATH.exists() or DOCUMENT_PATH.read_text() != render():
            raise SystemExit(f"{DOCUMENT_PATH.name} is stale: run `make merchant-openapi`")
        return
    DOCUMENT_PATH.write_text(render())
    print(f"wrote {DOCUMENT_PATH}")


if __name__ == "__main__":
    main()
