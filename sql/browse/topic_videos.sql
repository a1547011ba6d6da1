-- One page of the videos that carry a (normalized) topic, newest first.
SELECT v.video_id, v.title, c.title AS channel, v.published_at
FROM (SELECT DISTINCT video_id FROM video_tags WHERE tag_normalized = $topic) t
JOIN videos v USING (video_id)
LEFT JOIN channels c USING (channel_id)
ORDER BY v.published_at DESC NULLS LAST, v.video_id
LIMIT $limit OFFSET $offset;
