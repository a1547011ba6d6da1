-- Videos per month (UTC) for each of $topics, for the sparklines on the topics pages.
SELECT topic, month, videos
FROM topic_frequency_by_month
WHERE month IS NOT NULL AND list_contains($topics, topic)
ORDER BY topic, month;
