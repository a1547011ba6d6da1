-- The topics most videos are about, all time, with every spelling that was folded into each.
-- tubescribe query --file sql/analytics/top_topics.sql
SELECT tag_normalized AS topic, count(DISTINCT video_id) AS videos, list(DISTINCT tag ORDER BY tag) AS spellings
FROM video_tags
GROUP BY tag_normalized
ORDER BY videos DESC, topic
LIMIT 25;
