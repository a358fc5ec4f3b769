"""Read the local trace files (``OTEL_TRACES_EXPORTER=file``): list traces, print one as a tree.

python -m bnpl_common.traces list [--dir .data/traces] [--last 20]
python -m bnpl_common.traces show TRACE_ID [--dir .data/traces]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

Span = dict[str, Any]


def read_spans(directory: Path) -> Iterator[Span]:
    """Every span of every ``*.jsonl`` file under ``directory`` (lines that do not parse are skipped:
    a file may be read while a batch is being appended)."""
    for path in sorted(directory.glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                try:
                    span = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(span, dict) and "trace_id" in span:
                    yield span


def trace_spans(directory: Path, trace_id: str) -> list[Span]:
    return [s for s in read_spans(directory) if s["trace_id"] == trace_id.lower()]


def render_tree(spans: Iterable[Span]) -> list[str]:
    """One line per span, children indented under their parent, siblings in start order. A span
    whose parent is not in the files (sampled out, or from a caller outside) is shown as a root."""
    spans = sorted(spans, key=lambda s: s.get("start_ns", 0))
    ids = {s["span_id"] for s in spans}
    children: dict[str | None, list[Span]] = defaultdict(list)
    for s in spans:
        parent = s.get("parent_span_id")
        children[parent if parent in ids else None].append(s)
    start = spans[0].get("start_ns", 0) if spans else 0
    lines: list[str] = []

    def walk(span: Span, depth: int) -> None:
        offset = (span.get("start_ns", 0) - start) / 1e6
        status = "" if span.get("status") in ("UNSET", "OK") else f"  [{span.get('status')}]"
        lines.append(
            f"{'  ' * depth}{span['name']}  ({span.get('service')}, {span.get('kind', '').lower()})"
            f"  +{offset:.1f} ms  {span.get('duration_ms', 0):.1f} ms{status}"
        )
        for child in children.get(span["span_id"], []):
            walk(child, depth + 1)

    for root in children.get(None, []):
        walk(root, 0)
    return lines


def list_traces(directory: Path, last: int) -> list[str]:
    roots: dict[str, Span] = {}
    services: dict[str, set[str]] = defaultdict(set)
    for s in read_spans(directory):
        services[s["trace_id"]].add(str(s.get("service")))
        current = roots.get(s["trace_id"])
        if current is None or s.get("start_ns", 0) < current.get("start_ns", 0):
            roots[s["trace_id"]] = s
    newest = sorted(roots.values(), key=lambda s: s.get("start_ns", 0))[-last:]
    return [
        f"{s['trace_id']}  {s['name']}  {s.get('duration_ms', 0):.1f} ms  {','.join(sorted(services[s['trace_id']]))}"
        for s in newest
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bnpl_common.traces", description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path(".data/traces"), help="the TRACES_DIR of the services")
    sub = parser.add_subparsers(dest="command", required=True)
    show = sub.add_parser("show", help="print one trace as a tree")
    show.add_argument("trace_id")
    listing = sub.add_parser("list", help="the newest traces: id, root span, duration, services")
    listing.add_argument("--last", type=int, default=20)
    args = parser.parse_args(argv)
    if args.command == "list":
        print("\n".join(list_traces(args.dir, args.last)))
        return 0
    spans = trace_spans(args.dir, args.trace_id)
    if not spans:
        print(f"no spans of trace {args.trace_id} under {args.dir}", file=sys.stderr)
        return 1
    print("\n".join(render_tree(spans)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
