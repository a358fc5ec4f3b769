"""``python -m bnpl_credit.lake sql "SELECT ..." [--lake DIR] [--json]``: query the lake."""

from __future__ import annotations

import argparse
import json
import os
import sys

from bnpl_credit.lake.query import VIEWS, sql


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bnpl_credit.lake", description="query the data lake")
    parser.add_argument("--lake", default=os.environ.get("LAKE_DIR", ".data/lake"), help="lake folder")
    sub = parser.add_subparsers(dest="command", required=True)
    q = sub.add_parser("sql", help=f"run a query; views: events, {', '.join(VIEWS)}")
    q.add_argument("query")
    q.add_argument("--json", action="store_true", help="one JSON object per row")
    args = parser.parse_args(argv)
    try:
        columns, rows = sql(args.lake, args.query)
    except Exception as exc:  # duckdb's errors name the problem; no stack trace for a typo
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        for row in rows:
            print(json.dumps(dict(zip(columns, row, strict=True)), default=str))
    else:
        print("\t".join(columns))
        for row in rows:
            print("\t".join("" if v is None else str(v) for v in row))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
