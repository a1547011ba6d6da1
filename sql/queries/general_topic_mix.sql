-- How many videos touch each general topic, and how hard they are on average.
SELECT name AS general_topic, count(*) AS videos, round(avg(complexity), 2) AS mean_complexity
FROM video_general_topics
GROUP BY name
ORDER BY videos DESC, general_topic;
