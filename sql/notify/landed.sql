-- The videos a run landed: loaded, and written by a load at or after the run's start ($since).
SELECT v.video_id, v.title, coalesce(c.title, '') AS channel
FROM videos v
LEFT JOIN channels c USING (channel_id)
WHERE v.status = 'loaded' AND v.updated_at >= $since
ORDER BY v.published_at DESC NULLS LAST, v.video_id;
