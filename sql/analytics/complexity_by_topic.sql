-- The hardest and easiest topics: mean complexity of the videos that carry each (normalized) topic.
-- tubescribe query --file sql/analytics/complexity_by_topic.sql
SELECT t.tag_normalized AS topic, count(DISTINCT t.video_id) AS videos, round(avg(g.complexity), 2) AS mean_complexity
FROM video_tags t JOIN video_general_topics g USING (video_id)
GROUP BY t.tag_normalized
ORDER BY mean_complexity DESC, videos DESC, topic;
