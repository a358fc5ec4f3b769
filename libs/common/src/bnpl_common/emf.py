"""CloudWatch embedded metric format (EMF): metrics written as JSON log lines.

In AWS the services' stdout goes to CloudWatch Logs (awslogs driver), which turns every line
that carries an ``_aws`` object into metric data points: no agent, no API call, no credentials in
the request path. https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

# The units CloudWatch knows (the ones we use).
UNITS = frozenset({"Count", "Seconds", "Milliseconds", "Percent", "None"})
MAX_DIMENSIONS = 30  # per dimension set (the specification's limit)
MAX_METRICS = 100  # per line
_NAME = re.compile(r"^[A-Za-z0-9_.:/#-]{1,255}$")


class EmfError(ValueError):
    """A metric the specification would refuse (name, unit, dimension count)."""


@dataclass
class EmfEmitter:
    """Writes one EMF line per :meth:`emit` to ``stream`` (stdout: the task's log stream)."""

    namespace: str
    base_dimensions: Mapping[str, str] = field(default_factory=dict)
    stream: TextIO | None = None
    clock: Callable[[], float] = time.time
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if not _NAME.match(self.namespace):
            raise EmfError(f"namespace {self.namespace!r} is not a valid CloudWatch namespace")

    def document(
        self,
        metrics: Mapping[str, tuple[float, str]],
        dimensions: Mapping[str, str] | None = None,
        *,
        dimension_sets: Sequence[Sequence[str]] | None = None,
    ) -> dict[str, Any]:
        """The EMF object for ``{name: (value, unit)}`` with these dimensions (and the base ones).

        ``dimension_sets``: the combinations CloudWatch aggregates by (default: all of them as one
        set); e.g. ``[["Service"], ["Service", "Outcome"]]`` gives a total and one per outcome."""
        if not metrics:
            raise EmfError("an EMF line needs at least one metric")
        if len(metrics) > MAX_METRICS:
            raise EmfError(f"at most {MAX_METRICS} metrics per line")
        dims = {**self.base_dimensions, **(dimensions or {})}
        if len(dims) > MAX_DIMENSIONS:
            raise EmfError(f"at most {MAX_DIMENSIONS} dimensions per set")
        for name, (_, unit) in metrics.items():
            if not _NAME.match(name):
                raise EmfError(f"metric name {name!r} is not valid")
            if unit not in UNITS:
                raise EmfError(f"unit {unit!r} of {name} is not one of {sorted(UNITS)}")
            if name in dims:
                raise EmfError(f"{name} is both a metric and a dimension")
        sets = [list(s) for s in dimension_sets] if dimension_sets is not None else [sorted(dims)]
        for one in sets:
            unknown = set(one) - set(dims)
            if unknown:
                raise EmfError(f"dimension set names {sorted(unknown)} without a value")
        doc: dict[str, Any] = {
            "_aws": {
                "Timestamp": int(self.clock() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": self.namespace,
                        "Dimensions": sets,
                        "Metrics": [{"Name": name, "Unit": unit} for name, (_, unit) in metrics.items()],
                    }
                ],
            }
        }
        doc.update({key: str(value) for key, value in dims.items()})
        doc.update({name: value for name, (value, _) in metrics.items()})
        return doc

    def emit(
        self,
        metrics: Mapping[str, tuple[float, str]],
        dimensions: Mapping[str, str] | None = None,
        *,
        dimension_sets: Sequence[Sequence[str]] | None = None,
    ) -> None:
        doc = self.document(metrics, dimensions, dimension_sets=dimension_sets)
        line = json.dumps(doc, separators=(",", ":")) + "\n"
        stream = self.stream or sys.stdout
        with self._lock:
            stream.write(line)
            stream.flush()
