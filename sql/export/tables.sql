-- The catalog's tables, in name order (search_docs is left out: it is rebuilt from the others).
SELECT table_name FROM duckdb_tables()
WHERE database_name = current_database() AND schema_name = 'main' AND table_name <> 'search_docs'
ORDER BY table_name;
