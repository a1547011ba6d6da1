-- The tables migrate_to_lake copies: every table of the embedded catalog that the lake has too, the
-- search index included (it is derived, but copying it is cheaper than a rebuild), schema_migrations
-- left out (the lake records its own).
SELECT e.table_name FROM duckdb_tables() e
WHERE e.database_name = 'embedded' AND e.schema_name = 'main' AND e.table_name <> 'schema_migrations'
  AND e.table_name IN (SELECT table_name FROM duckdb_tables() WHERE database_name = 'catalog')
ORDER BY e.table_name;
