-- Merge each term's postings rows into one and drop documents that no longer exist (replaced by a
-- reload). Queries then read fewer, longer lists. Run by search.refresh_index when rows pile up.
CREATE OR REPLACE TEMP TABLE merged AS
SELECT term, list(p ORDER BY p.doc) AS postings
FROM (SELECT term, unnest(postings) AS p FROM search_postings)
WHERE p.doc IN (SELECT doc_id FROM search_docs)
GROUP BY term;
DELETE FROM search_postings;
INSERT INTO search_postings SELECT term, postings FROM merged;
DROP TABLE merged;
