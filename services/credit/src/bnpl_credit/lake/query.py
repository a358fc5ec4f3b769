"""DuckDB over the lake: one view per kind of fact, one row per event id.

Views: ``events`` (every event: ``event_id, type, occurred_at, customer_key, data`` JSON),
``decisions``, ``plans``, ``payments``, ``late_installments``, ``refunds``. They are what the
retraining job (``bnpl_model retrain``) and an analyst read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

_EMPTY_EVENTS = (
    "SELECT NULL::VARCHAR AS event_id, NULL::VARCHAR AS type, NULL::TIMESTAMPTZ AS occurred_at,"
    " NULL::VARCHAR AS customer_key, NULL::JSON AS data WHERE false"
)

VIEWS = {
    "decisions": """
        SELECT event_id, occurred_at AS decided_at, customer_key,
               data->>'applicationId' AS application_id, data->>'status' AS status,
               data->>'planType' AS plan_type,
               CAST(data->'amount'->>'amount' AS BIGINT) AS amount, data->'amount'->>'currency' AS currency,
               data->>'modelVersion' AS model_version, data->>'policyVersion' AS policy_version,
               CAST(data->>'featureMappingVersion' AS INTEGER) AS feature_mapping_version,
               CAST(data->>'score' AS INTEGER) AS score, CAST(data->>'pd' AS DOUBLE) AS pd,
               data->>'grade' AS grade, data->'features' AS features, data->'reasonCodes' AS reason_codes,
               CAST(data->'shadow'->>'pd' AS DOUBLE) AS shadow_pd,
               data->'shadow'->>'modelVersion' AS shadow_model_version
        FROM events WHERE type = 'decision.made'""",
    "plans": """
        SELECT event_id, occurred_at AS activated_at, customer_key,
               data->>'planId' AS plan_id, data->>'applicationId' AS application_id,
               data->>'planType' AS plan_type, data->>'merchantId' AS merchant_id,
               CAST(data->'principal'->>'amount' AS BIGINT) AS principal,
               data->'principal'->>'currency' AS currency, data->'installments' AS installments
        FROM events WHERE type = 'plan.activated'""",
    "payments": """
        SELECT event_id, occurred_at AS paid_at, customer_key, data->>'planId' AS plan_id,
               CAST(data->'amount'->>'amount' AS BIGINT) AS amount, data->>'source' AS source,
               data->'allocations' AS allocations
        FROM events WHERE type = 'payment.applied'""",
    "late_installments": """
        SELECT event_id, occurred_at AS marked_at, customer_key, data->>'planId' AS plan_id,
               CAST(data->>'sequence' AS INTEGER) AS sequence, CAST(data->>'dueDate' AS DATE) AS due_date,
               CAST(data->'lateFee'->>'amount' AS BIGINT) AS late_fee
        FROM events WHERE type = 'installment.late'""",
    "refunds": """
        SELECT event_id, occurred_at AS refunded_at, customer_key, data->>'planId' AS plan_id,
               CAST(data->'amount'->>'amount' AS BIGINT) AS amount
        FROM events WHERE type = 'refund.applied'""",
}


def connect(root: str | Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the lake's views (empty views when nothing has landed yet)."""
    con = duckdb.connect()
    files = Path(root) / "events"
    if any(files.glob("type=*/date=*/*.parquet")):
        pattern = str(files / "type=*" / "date=*" / "*.parquet").replace("'", "''")
        # the lake's own folder (its quotes doubled) is the only text put into the SQL
        source = f"""
            SELECT event_id, type, occurred_at, customer_key, CAST(data AS JSON) AS data FROM (
                SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY occurred_at) AS copy
                FROM read_parquet('{pattern}', hive_partitioning = true, union_by_name = true)
            ) WHERE copy = 1"""  # noqa: S608
    else:
        source = _EMPTY_EVENTS
    con.execute(f"CREATE VIEW events AS {source}")
    for name, sql in VIEWS.items():
        con.execute(f"CREATE VIEW {name} AS {sql}")
    return con


def sql(root: str | Path, query: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run one query; the column names and the rows."""
    con = connect(root)
    try:
        cursor = con.execute(query)
        columns = [d[0] for d in cursor.description or []]
        return columns, cursor.fetchall()
    finally:
        con.close()
