-- Videos per month (UTC) for each of $topics, for the sparklines on the topics pages: topic_frequency_by_month's
-- figures, with each month computed for the topics' videos only (the view computes every video's month first)
-- and from the epoch (make_timestamp(epoch_us(...)): the same UTC month as timezone('UTC', ...), cheaper).
SELECT t.tag_normalized AS topic,
       CAST(date_trunc('month', make_timestamp(epoch_us(v.published_at))) AS DATE) AS month,
       count(DISTINCT t.video_id) AS videos
FROM video_tags t JOIN videos v USING (video_id)
WHERE v.published_at IS NOT NULL AND list_contains($topics, t.tag_normalized)
GROUP BY ALL
ORDER BY topic, month;
