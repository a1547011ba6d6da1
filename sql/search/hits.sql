-- BM25 hits for $query (search_scores, sql/schema/004_search_docs.sql), best first, with what a hit
-- needs to be shown and linked. $channel (NULL for all) matches a channel id or URL exactly, or part
-- of its title in any case; $since (NULL for all) is the first publish date, inclusive (UTC).
WITH scores AS (
    -- Unfiltered, only the best $limit documents need their text and video; filtered, every match does.
    SELECT doc_id, score FROM search_scores($query)
    ORDER BY score DESC, doc_id
    LIMIT CASE WHEN $channel IS NULL AND $since IS NULL THEN $limit END
)
SELECT d.video_id, v.title, c.title AS channel, d.kind, d.start_s, d.text, v.url, v.extractor, h.score
FROM scores h
JOIN search_docs d USING (doc_id)
JOIN videos v USING (video_id)
LEFT JOIN channels c USING (channel_id)
WHERE ($channel IS NULL
       OR v.channel_id = $channel OR c.url = $channel
       OR contains(lower(c.title), lower(CAST($channel AS VARCHAR))))
  AND ($since IS NULL OR v.published_at >= timezone('UTC', CAST($since AS TIMESTAMP)))
ORDER BY h.score DESC, d.video_id, d.start_s
LIMIT $limit;
