-- The three most frequent topics of each month (UTC), newest month first.
-- tubescribe query --file sql/analytics/topic_trends.sql
SELECT month, topic, videos
FROM topic_frequency_by_month
WHERE month IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY month ORDER BY videos DESC, topic) <= 3
ORDER BY month DESC, videos DESC, topic;
