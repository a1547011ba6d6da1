-- Topics (normalized tags) that first appear with the videos a run landed: no video loaded before the
-- run's start ($since) carries them.
WITH landed AS (
    SELECT video_id FROM videos WHERE status = 'loaded' AND updated_at >= $since
)
SELECT t.tag_normalized AS topic, count(DISTINCT t.video_id) AS videos
FROM video_tags t
WHERE t.video_id IN (SELECT video_id FROM landed)
  AND t.tag_normalized NOT IN (
      SELECT o.tag_normalized FROM video_tags o WHERE o.video_id NOT IN (SELECT video_id FROM landed)
  )
GROUP BY t.tag_normalized
ORDER BY videos DESC, topic;
