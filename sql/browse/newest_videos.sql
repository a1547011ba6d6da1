-- One page of videos, newest first, optionally of one channel ($channel_id NULL: every channel).
-- Read from the tables, not video_overview: a top-N over videos stays fast at 100k, the view's joins do not.
SELECT v.video_id, v.title, c.title AS channel, v.published_at, v.duration_s, v.status,
       coalesce(t.source, CASE WHEN t.video_id IS NOT NULL THEN 'asr' END) AS transcript_source
FROM (
    SELECT * FROM videos
    WHERE $channel_id IS NULL OR channel_id = $channel_id
    ORDER BY published_at DESC NULLS LAST, video_id
    LIMIT $limit OFFSET $offset
) v
LEFT JOIN channels c USING (channel_id)
LEFT JOIN transcripts t USING (video_id)
ORDER BY v.published_at DESC NULLS LAST, v.video_id;
