-- Whether the search tables hold an index of the current format $format (the first load builds it).
SELECT count(*) > 0 FROM search_index_state WHERE format = $format;
