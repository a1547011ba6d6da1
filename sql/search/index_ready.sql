-- Whether the full-text index over search_docs exists (it is built by the first load).
SELECT count(*) > 0 FROM duckdb_functions() WHERE schema_name = 'fts_main_search_docs' AND function_name = 'match_bm25';
