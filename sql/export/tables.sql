-- The catalog's tables, in name order; the search index (search_*) is left out: it is derived from the
-- others, and so is schema_migrations: it is the catalog's own bookkeeping, not data.
SELECT table_name FROM duckdb_tables()
WHERE database_name = current_database() AND schema_name = 'main' AND NOT starts_with(table_name, 'search_')
  AND table_name <> 'schema_migrations'
ORDER BY table_name;
