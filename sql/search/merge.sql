-- Rewrite search_postings in term order without the replaced documents, and note the new size and
-- the corpus's numbers (documents, terms, the next free id) in search_index_state. Run by search.refresh_index after a
-- full build, and when loads since the last merge have grown the postings by search.MERGE_AFTER_GROWTH.
CREATE OR REPLACE TEMP TABLE merged AS
SELECT term, doc_id, tf, len FROM search_postings
WHERE doc_id NOT IN (SELECT doc_id FROM search_dead_docs)
ORDER BY term, doc_id;
DELETE FROM search_postings;
INSERT INTO search_postings SELECT term, doc_id, tf, len FROM merged ORDER BY term, doc_id;
DROP TABLE merged;
DELETE FROM search_dead_docs;
DELETE FROM search_index_state;
INSERT INTO search_index_state (format, merged_at, merged_rows, docs, terms, next_doc_id)
VALUES ($format, now(), (SELECT count(*) FROM search_postings),
        (SELECT count(*) FROM search_docs), (SELECT coalesce(sum(terms), 0) FROM search_docs),
        (SELECT coalesce(max(doc_id), 0) + 1 FROM search_docs));
