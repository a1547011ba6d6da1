-- Rebuild search_docs from the catalog: every transcript segment at its own second, and each part of a
-- video's newest summary at the second it describes (its section's start, or 0 for the introduction
-- and the topic list). Run by search.refresh_index, in one transaction with build_index.
DELETE FROM search_docs;
INSERT INTO search_docs (doc_id, video_id, kind, part, start_s, text)
SELECT row_number() OVER (ORDER BY video_id, kind, part), video_id, kind, part, start_s, text
FROM (
    SELECT video_id, 'segment' AS kind, idx AS part, start_s, text FROM segments
    UNION ALL
    SELECT video_id, 'introduction', 0, 0.0, introduction FROM latest_summaries
    UNION ALL
    SELECT video_id, 'section', idx, coalesce(start_s, 0.0),
           concat_ws('. ', title, array_to_string(bullets, ' '), array_to_string(topics, ', '))
    FROM video_sections
    UNION ALL
    SELECT video_id, 'topics', 0, 0.0, string_agg(tag, ', ' ORDER BY idx) FROM video_tags GROUP BY video_id
)
WHERE trim(text) <> '';
