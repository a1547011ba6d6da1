-- Passages nearest in meaning to $vector (the question embedded by $model, as JSON text), best first, shaped like
-- hits.sql's rows. Vectors are L2-normalized, so the inner product is the cosine. Brute force over the
-- model's rows (BENCHMARKS.md says what it costs); $channel and $since filter as in hits.sql.
WITH nearest AS (
    SELECT video_id, kind, start_s, text, list_inner_product(embedding, CAST(CAST($vector AS VARCHAR) AS FLOAT[])) AS score
    FROM embeddings
    WHERE model = $model
    ORDER BY score DESC
    LIMIT CASE WHEN $channel IS NULL AND $since IS NULL THEN $limit END
)
SELECT n.video_id, v.title, c.title AS channel, n.kind, coalesce(n.start_s, 0), n.text, v.url, v.extractor, n.score
FROM nearest n
JOIN videos v USING (video_id)
LEFT JOIN channels c USING (channel_id)
WHERE ($channel IS NULL
       OR v.channel_id = $channel OR c.url = $channel
       OR contains(lower(c.title), lower(CAST($channel AS VARCHAR))))
  AND ($since IS NULL OR v.published_at >= timezone('UTC', CAST($since AS TIMESTAMP)))
ORDER BY n.score DESC, n.video_id, n.start_s
LIMIT $limit;
