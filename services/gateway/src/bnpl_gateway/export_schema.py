"""``python -m bnpl_gateway.export_schema [--check] [--output PATH]``: write the SDL the code defines.

The committed ``services/gateway/schema.graphql`` is the contract the checkout page and
other clients read; a test fails when it and the code drift.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from strawberry.printer import print_schema

from bnpl_gateway.schema import create_schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"
EXPORT_COMMAND = "python -m bnpl_gateway.export_schema"


def schema_sdl() -> str:
    """The schema as SDL text, ending with one newline."""
    return print_schema(create_schema()).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=SCHEMA_FILE)
    parser.add_argument("--check", action="store_true", help="fail if the file differs from the code")
    args = parser.parse_args(argv)
    sdl = schema_sdl()
    if args.check:
        current = args.output.read_text() if args.output.exists() else ""
        if current != sdl:
            print(f"{args.output} is out of date; run: {EXPORT_COMMAND}", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(sdl)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
