"""Retraining from the lake: the label, the out-of-time comparison, the registry and promotion."""

from __future__ import annotations

import csv
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from bnpl_model import registry as reg
from bnpl_model.cli import main
from bnpl_model.lake import outcomes
from bnpl_model.retrain import NotEnoughOutcomes, retrain

from .conftest import DATA, SPEC

INPUTS = [
    "Seniority",
    "Home",
    "Time",
    "Age",
    "Records",
    "Job",
    "Expenses",
    "Income",
    "Assets",
    "Debt",
    "Amount",
    "Price",
]
NUMERIC = {"Seniority", "Time", "Age", "Expenses", "Income", "Assets", "Debt", "Amount", "Price"}
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("occurred_at", pa.timestamp("us", tz="UTC")),
        ("customer_key", pa.string()),
        ("source", pa.string()),
        ("data", pa.string()),
    ]
)


class Lake:
    """Writes events in the lake's layout (the credit service's contract: bnpl_credit.lake.writer)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.rows: dict[str, list[dict[str, Any]]] = {}

    def event(self, event_type: str, at: datetime, data: dict[str, Any], event_id: str | None = None) -> None:
        self.rows.setdefault(event_type, []).append(
            {
                "event_id": event_id or str(uuid.uuid4()),
                "occurred_at": at,
                "customer_key": "k",
                "source": "bnpl.credit",
                "data": json.dumps(data),
            }
        )

    def flush(self) -> None:
        for event_type, rows in self.rows.items():
            folder = self.root / "events" / f"type={event_type}" / "date=2026-01-01"
            folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), folder / f"part-{uuid.uuid4().hex}.parquet")
        self.rows = {}

    def plan(
        self,
        features: dict[str, Any],
        decided: datetime,
        *,
        paid_days_late: list[int | None],
        refunded: bool = False,
    ) -> str:
        """An approved decision, its plan of monthly installments and the payments (None: never paid)."""
        app, plan = str(uuid.uuid4()), str(uuid.uuid4())
        self.event(
            "decision.made",
            decided,
            {"applicationId": app, "status": "APPROVED", "features": features, "pd": 0.1, "modelVersion": "m1"},
        )
        dues = [decided.date() + timedelta(days=30 * (i + 1)) for i in range(len(paid_days_late))]
        self.event(
            "plan.activated",
            decided,
            {
                "planId": plan,
                "applicationId": app,
                "installments": [
                    {"sequence": i + 1, "dueDate": d.isoformat(), "amount": {"amount": 1000, "currency": "EUR"}}
                    for i, d in enumerate(dues)
                ],
            },
        )
        for i, (due, late) in enumerate(zip(dues, paid_days_late, strict=True)):
            if late is not None:
                at = datetime.combine(due + timedelta(days=late), datetime.min.time(), UTC)
                self.event(
                    "payment.applied",
                    at,
                    {
                        "planId": plan,
                        "allocations": [{"sequence": i + 1, "amount": {"amount": 1000, "currency": "EUR"}}],
                    },
                )
        if refunded:
            self.event("refund.applied", decided + timedelta(days=1), {"planId": plan, "amount": {"amount": 500}})
        return app


def features_of(row: dict[str, str]) -> dict[str, Any]:
    return {n: (float(row[n]) if n in NUMERIC and row[n] else row[n] or None) for n in INPUTS}


def test_the_label_is_30_days_late_within_90_days_of_the_first_due_date(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    f = {n: 1 for n in INPUTS}
    on_time = lake.plan(f, START, paid_days_late=[0, 0, 0])
    ten_late = lake.plan(f, START, paid_days_late=[0, 10, 0])
    thirty_one_late = lake.plan(f, START, paid_days_late=[0, 31, 0])
    never_third = lake.plan(f, START, paid_days_late=[0, 0, None])
    outside_window = lake.plan(f, START, paid_days_late=[0, 0, 0, 0, None])  # 5th due day 150 > first due + 90
    refunded = lake.plan(f, START, paid_days_late=[0, None, None], refunded=True)
    too_recent = lake.plan(f, START + timedelta(days=200), paid_days_late=[0, 0, 0])
    lake.flush()
    labels = {o.application_id: o.bad for o in outcomes(tmp_path, as_of=START + timedelta(days=300))}
    assert labels == {on_time: False, ten_late: False, thirty_one_late: True, never_third: True, outside_window: False}
    assert refunded not in labels and too_recent not in labels


def test_duplicate_events_count_once(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    lake.plan({n: 1 for n in INPUTS}, START, paid_days_late=[0, 0, 0])
    rows = {k: list(v) for k, v in lake.rows.items()}
    lake.flush()
    lake.rows = rows  # the relay wrote the same batch again
    lake.flush()
    assert len(outcomes(tmp_path, as_of=START + timedelta(days=300))) == 1


def build_lake(root: Path, rows: list[dict[str, str]]) -> None:
    lake = Lake(root)
    for i, row in enumerate(rows):
        bad = row["Status"] == "bad"
        lake.plan(
            features_of(row), START + timedelta(hours=6 * i), paid_days_late=[0, None, None] if bad else [0, 3, 0]
        )
    lake.flush()


def read_rows(start: int, count: int) -> list[dict[str, str]]:
    with open(DATA, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))[start : start + count]


def test_retrain_writes_an_honest_report_and_promotion_is_explicit(tmp_path: Path, artifact_dir: Path) -> None:
    build_lake(tmp_path / "lake", read_rows(3000, 400))
    registry = tmp_path / "registry"
    report = retrain(
        tmp_path / "lake", registry=registry, spec_path=SPEC, champion_dir=artifact_dir, log=lambda *a: None
    )
    assert report["outcomes"]["labelled"] == 400
    assert report["development"]["rows"] + report["window"]["rows"] == 400
    assert report["development"]["to"] <= report["window"]["from"]  # out of time: the window is newer
    window_bad = report["window"]["bad"]
    assert report["conclusive"] is (window_bad >= 30 and report["window"]["rows"] - window_bad >= 30)
    for side in ("champion", "challenger"):
        assert 0.5 < report[side]["auc"] < 1.0  # real data: both models rank it, neither perfectly
        assert report[side]["fairness"]["bands"]
    index = reg.load(registry)
    champion, challenger = report["champion"]["model_version"], report["challenger"]["model_version"]
    assert index["champion"] == champion  # nothing promoted by retraining
    assert {v["version"] for v in index["versions"]} == {champion, challenger}
    assert (reg.version_dir(registry, challenger) / "report.md").read_text().startswith("# Promotion report")

    assert main(["promote", "--registry", str(registry), challenger, "--reason", "better on the window"]) == 0
    assert reg.load(registry)["champion"] == challenger and reg.champion_dir(registry).name == challenger
    assert main(["rollback", "--registry", str(registry), "--reason", "complaints"]) == 0
    index = reg.load(registry)
    assert index["champion"] == champion
    assert [h["action"] for h in index["history"]] == ["promote", "promote", "rollback"]
    assert all(h["by"] and h["at"] and h["reason"] for h in index["history"])


def test_retrain_refuses_too_few_outcomes(tmp_path: Path, artifact_dir: Path) -> None:
    build_lake(tmp_path / "lake", read_rows(0, 20))
    with pytest.raises(NotEnoughOutcomes, match="too few"):
        retrain(
            tmp_path / "lake", registry=tmp_path / "r", spec_path=SPEC, champion_dir=artifact_dir, log=lambda *a: None
        )


def test_promotion_needs_a_registered_version_and_a_reason(tmp_path: Path, artifact_dir: Path) -> None:
    version = reg.register(tmp_path, artifact_dir, role="champion")
    with pytest.raises(reg.RegistryError, match="reason"):
        reg.promote(tmp_path, version, reason=" ")
    with pytest.raises(reg.RegistryError, match="not in the registry"):
        reg.promote(tmp_path, "nope", reason="x")
    with pytest.raises(reg.RegistryError, match="no earlier champion"):
        reg.rollback(tmp_path, reason="x")
    assert main(["promote", "--registry", str(tmp_path), "nope", "--reason", "x"]) == 2
