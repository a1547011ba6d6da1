-- One table to a Parquet file (types kept exactly, JSON as text).
COPY (SELECT * FROM query_table($table)) TO $path (FORMAT parquet, COMPRESSION zstd);
