-- BM25 needs the corpus's size and average document length on every query. Counting them from
-- search_docs made each search scan every document (37 M rows at 1M videos, and on DuckLake a read
-- of the whole table's files); now refresh.sql and merge.sql keep the two numbers beside the index.
-- Likewise the next free document id, which each load took as the largest id in use (a scan of every
-- document's id; the lake has no sequences).
ALTER TABLE search_index_state ADD COLUMN IF NOT EXISTS docs BIGINT;
ALTER TABLE search_index_state ADD COLUMN IF NOT EXISTS terms BIGINT;
ALTER TABLE search_index_state ADD COLUMN IF NOT EXISTS next_doc_id BIGINT;
-- Catalogs indexed before this migration: their numbers, counted once.
UPDATE search_index_state
SET docs = (SELECT count(*) FROM search_docs), terms = (SELECT coalesce(sum(terms), 0) FROM search_docs),
    next_doc_id = (SELECT coalesce(max(doc_id), 0) + 1
                   FROM (SELECT doc_id FROM search_docs UNION ALL SELECT doc_id FROM search_dead_docs));

-- search_scores as in 004_search_docs.sql, with the corpus numbers read from search_index_state.
CREATE OR REPLACE MACRO search_scores(query) AS TABLE
WITH matched AS (
    SELECT term, doc_id, tf, len FROM search_postings
    WHERE term IN (SELECT unnest(search_tokens(query)))
      AND doc_id NOT IN (SELECT doc_id FROM search_dead_docs)
),
corpus AS (SELECT any_value(docs) AS docs, any_value(terms) / nullif(any_value(docs), 0) AS avg_terms
           FROM search_index_state),
idf AS (
    SELECT term, ln(1 + (any_value(c.docs) - count(*) + 0.5) / (count(*) + 0.5)) AS idf
    FROM matched, corpus c GROUP BY term
)
SELECT m.doc_id, sum(i.idf * m.tf * 2.2 / (m.tf + 1.2 * (0.25 + 0.75 * m.len / c.avg_terms))) AS score
FROM matched m JOIN idf i USING (term), corpus c
GROUP BY m.doc_id;
