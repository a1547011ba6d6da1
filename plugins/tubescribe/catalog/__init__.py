"""The catalog: opening it on either backend and its one writer (connection.py), named SQL with bound
parameters and transactions (sql.py), versioned migrations (migrations.py), DuckLake's attach and S3 secret
(lake.py), the writer's loads (load.py), search, the read-only sandbox and queries, exports and maintenance.
Its SQL ships inside the package (`sql/`, linked from the checkout's top level)."""
