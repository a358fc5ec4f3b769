"""A training set from the platform's own outcomes, read from the data lake.

The lake (``<lake>/events/type=<type>/date=<day>/*.parquet``, columns ``event_id,
occurred_at, customer_key, source, data`` with ``data`` the event's JSON payload; written by
the credit service, see its ``bnpl_credit.lake``) is read with DuckDB. One row per approved
decision that became a plan, with:

- the model's inputs exactly as scored (``decision.made`` -> ``features``),
- the label: **bad** when an installment due within 90 days of the plan's first due date was
  not fully paid 30 days after its own due date ("30+ days late within 90 days of the first due
  date"); only plans whose whole window has been observed by ``as_of`` (at least 120 days after
  the first due date; default: now) are labelled, the others are left out;
- the decision time (for out-of-time splits), the champion's PD then and its model version.

Plans with a refund are left out: a refunded installment is not a repayment outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

WINDOW_DAYS = 90
LATE_DAYS = 30

_SQL = """
WITH raw AS (
    SELECT * FROM read_parquet(?, hive_partitioning = true, union_by_name = true)
), ev AS (
    SELECT event_id, type, occurred_at, CAST(data AS JSON) AS data FROM (
        SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY occurred_at) AS copy FROM raw
    ) WHERE copy = 1
), decisions AS (
    SELECT data->>'applicationId' AS application_id, occurred_at AS decided_at,
           data->>'features' AS features, CAST(data->>'pd' AS DOUBLE) AS pd,
           data->>'modelVersion' AS model_version
    FROM ev WHERE type = 'decision.made' AND data->>'status' = 'APPROVED' AND data->>'features' IS NOT NULL
), plans AS (
    SELECT data->>'planId' AS plan_id, data->>'applicationId' AS application_id, data->'installments' AS inst
    FROM ev WHERE type = 'plan.activated'
), installments AS (
    SELECT plan_id, CAST(i->>'sequence' AS INTEGER) AS seq, CAST(i->>'dueDate' AS DATE) AS due_date,
           CAST(i->'amount'->>'amount' AS BIGINT) AS amount
    FROM (SELECT plan_id, unnest(CAST(inst AS JSON[])) AS i FROM plans)
), first_due AS (
    SELECT plan_id, min(due_date) AS first_due FROM installments GROUP BY plan_id
), allocations AS (
    SELECT data->>'planId' AS plan_id, occurred_at AS paid_at, CAST(a->>'sequence' AS INTEGER) AS seq,
           CAST(a->'amount'->>'amount' AS BIGINT) AS amount
    FROM (SELECT data, occurred_at, unnest(CAST(data->'allocations' AS JSON[])) AS a
          FROM ev WHERE type = 'payment.applied')
), window_rows AS (
    SELECT i.plan_id, i.seq, i.due_date, i.amount,
           coalesce((SELECT sum(a.amount) FROM allocations a
                     WHERE a.plan_id = i.plan_id AND a.seq = i.seq
                       AND CAST(a.paid_at AS DATE) <= i.due_date + INTERVAL (?) DAY), 0) AS paid_in_time
    FROM installments i JOIN first_due f USING (plan_id)
    WHERE i.due_date <= f.first_due + INTERVAL (?) DAY
), refunded AS (
    SELECT DISTINCT data->>'planId' AS plan_id FROM ev WHERE type = 'refund.applied'
)
SELECT d.application_id, d.decided_at, d.features, d.pd, d.model_version, p.plan_id,
       max(CASE WHEN w.paid_in_time < w.amount THEN 1 ELSE 0 END) AS bad
FROM decisions d
JOIN plans p USING (application_id)
JOIN first_due f ON f.plan_id = p.plan_id
JOIN window_rows w ON w.plan_id = p.plan_id
WHERE p.plan_id NOT IN (SELECT plan_id FROM refunded)
  AND CAST(? AS DATE) >= f.first_due + INTERVAL (?) DAY
GROUP BY d.application_id, d.decided_at, d.features, d.pd, d.model_version, p.plan_id
ORDER BY d.decided_at, d.application_id
"""


@dataclass(frozen=True)
class Outcome:
    application_id: str
    plan_id: str
    decided_at: datetime
    features: dict[str, Any]
    bad: bool
    pd_at_decision: float | None
    model_version: str | None


def outcomes(lake: str | Path, *, as_of: datetime | None = None) -> list[Outcome]:
    """The labelled outcomes in the lake as known at ``as_of`` (default now), oldest decision first."""
    import json

    pattern = str(Path(lake) / "events" / "type=*" / "date=*" / "*.parquet")
    if not any(Path(lake).glob("events/type=*/date=*/*.parquet")):
        return []
    con = duckdb.connect()
    try:
        as_of = as_of or datetime.now(UTC)
        rows = con.execute(_SQL, [pattern, LATE_DAYS, WINDOW_DAYS, as_of.date(), WINDOW_DAYS + LATE_DAYS]).fetchall()
    finally:
        con.close()
    return [
        Outcome(
            application_id=r[0],
            decided_at=r[1],
            features=json.loads(r[2]),
            pd_at_decision=r[3],
            model_version=r[4],
            plan_id=r[5],
            bad=bool(r[6]),
        )
        for r in rows
    ]
