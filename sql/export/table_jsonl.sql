-- One table to newline-delimited JSON, one object per row (JSON columns nested, not quoted).
COPY (SELECT * FROM query_table($table)) TO $path (FORMAT json);
