-- How many postings there are now, and how many there were after the last full build or merge.
SELECT (SELECT count(*) FROM search_postings), (SELECT max(merged_rows) FROM search_index_state);
