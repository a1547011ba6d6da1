-- One table to a CSV file with a header. NULL is an empty field, an empty string is "": read it back
-- with allow_quoted_nulls = false to tell them apart.
COPY (SELECT * FROM query_table($table)) TO $path (FORMAT csv, HEADER true);
