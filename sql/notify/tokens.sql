-- The LLM tokens of the summaries behind the videos a run landed (NULL where the backend did not say).
SELECT CAST(sum(s.tokens_in) AS BIGINT) AS tokens_in, CAST(sum(s.tokens_out) AS BIGINT) AS tokens_out
FROM latest_summaries s
JOIN videos v USING (video_id)
WHERE v.status = 'loaded' AND v.updated_at >= $since AND s.created_at >= $since;
