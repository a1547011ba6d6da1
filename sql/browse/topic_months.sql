-- The $topics most frequent topics of the last $months months and how many videos carried each, month by month.
WITH recent AS (
    SELECT * FROM topic_frequency_by_month
    WHERE month IS NOT NULL
      AND month > (SELECT max(month) FROM topic_frequency_by_month) - to_months(CAST($months AS INTEGER))
),
top AS (
    SELECT topic FROM recent GROUP BY topic ORDER BY sum(videos) DESC, topic LIMIT $topics
)
SELECT r.topic, r.month, r.videos
FROM recent r JOIN top USING (topic)
ORDER BY r.topic, r.month;
