"""Storage: one port (:mod:`.port`), two adapters (:mod:`.sqlite`, :mod:`.dynamodb`)."""
