-- New videos per ISO week across all channels, with the channels that published.
-- tubescribe query --file sql/analytics/weekly_uploads.sql
SELECT week, sum(videos) AS videos, list(DISTINCT channel ORDER BY channel) AS channels
FROM new_videos_per_week
GROUP BY week
ORDER BY week DESC;
