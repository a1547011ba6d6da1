-- The catalog's tables, in name order; the search index (search_*) is left out: it is derived from the others.
SELECT table_name FROM duckdb_tables()
WHERE database_name = current_database() AND schema_name = 'main' AND NOT starts_with(table_name, 'search_')
ORDER BY table_name;
