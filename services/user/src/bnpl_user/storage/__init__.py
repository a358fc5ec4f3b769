"""Storage adapters beyond the embedded SQLite one: DynamoDB (single table, ``table.json``)."""
