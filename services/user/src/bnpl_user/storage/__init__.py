"""Storage adapters of every port of the service: ``sqlite.py`` (embedded, the default) and
``dynamodb.py`` (one table, ``table.json``); ``factory.build_store`` picks one."""
