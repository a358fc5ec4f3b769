"""The data lake: every outbox event as partitioned Parquet, queryable with DuckDB.

Locally the outbox relay writes ``<LAKE_DIR>/events/type=<event type>/date=<YYYY-MM-DD>/*.parquet``
(:mod:`bnpl_credit.lake.writer`) and ``python -m bnpl_credit.lake sql "..."`` queries it
(:mod:`bnpl_credit.lake.query`); in AWS EventBridge feeds Amazon Data Firehose, which writes the
same columns to S3 as Parquet with a Glue table (``infra/cloudformation``). The lake holds no
names, phone numbers, addresses or e-mails, and the customer id only as a keyed hash.
"""
