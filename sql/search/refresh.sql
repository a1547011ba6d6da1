-- Re-index the videos in $video_ids (every video when $all): their search documents are replaced and
-- the new ones' postings appended in term order. Run by search.refresh_index inside the load's
-- transaction, so search and tables never disagree. Each document is a transcript segment at its own
-- second, or a part of the video's newest summary at the second it describes (its section's start,
-- or 0 for the introduction and the topic list).
-- What the replaced documents take out of the corpus's numbers (BM25's N and average length).
CREATE OR REPLACE TEMP TABLE corpus_change AS
SELECT -count(*) AS docs, -coalesce(sum(terms), 0) AS terms
FROM search_docs WHERE NOT $all AND video_id IN (SELECT unnest($video_ids));
INSERT INTO search_dead_docs
SELECT doc_id FROM search_docs WHERE NOT $all AND video_id IN (SELECT unnest($video_ids));
DELETE FROM search_docs WHERE $all OR video_id IN (SELECT unnest($video_ids));
DELETE FROM search_postings WHERE $all;
DELETE FROM search_dead_docs WHERE $all;
CREATE OR REPLACE TEMP TABLE fresh_docs AS
-- New ids count on from the next free one (search_index_state keeps it: a DuckLake catalog has no
-- sequences); a full build starts again at 1. An id freed by a merge may be reused: nothing refers to it.
SELECT CASE WHEN $all THEN 0 ELSE (SELECT max(next_doc_id) - 1 FROM search_index_state) END
       + row_number() OVER () AS doc_id,
       video_id, kind, part, start_s, text, search_tokens(text) AS tokens
FROM (
    SELECT video_id, 'segment' AS kind, idx AS part, start_s, text FROM segments
    UNION ALL
    SELECT video_id, 'introduction', 0, 0.0, introduction FROM latest_summaries
    UNION ALL
    SELECT video_id, 'section', idx, coalesce(start_s, 0.0),
           concat_ws('. ', title, array_to_string(bullets, ' '), array_to_string(topics, ', '))
    FROM video_sections
    UNION ALL
    SELECT video_id, 'topics', 0, 0.0, array_to_string(topics, ', ') FROM latest_summaries
)
WHERE ($all OR video_id IN (SELECT unnest($video_ids))) AND trim(text) <> '';
INSERT INTO search_docs (doc_id, video_id, kind, part, start_s, text, terms)
SELECT doc_id, video_id, kind, part, start_s, text, len(tokens) FROM fresh_docs;
INSERT INTO search_postings (term, doc_id, tf, len)
SELECT term, doc_id, count(*), any_value(len)
FROM (SELECT doc_id, unnest(tokens) AS term, len(tokens) AS len FROM fresh_docs)
GROUP BY term, doc_id
ORDER BY term, doc_id;
-- A full build ($all) is followed by a merge, which counts the corpus afresh.
INSERT INTO corpus_change SELECT count(*), coalesce(sum(len(tokens)), 0) FROM fresh_docs;
UPDATE search_index_state
SET docs = docs + (SELECT sum(docs) FROM corpus_change), terms = terms + (SELECT sum(terms) FROM corpus_change),
    next_doc_id = next_doc_id + (SELECT count(*) FROM fresh_docs)
WHERE NOT $all;
DROP TABLE fresh_docs;
DROP TABLE corpus_change;
