-- New videos per ISO week, all channels together, over the $weeks weeks up to the newest upload (the catalog
-- chart); weeks without an upload count 0, so the chart's gaps are true.
WITH weeks AS (
    SELECT week, sum(videos) AS videos FROM new_videos_per_week GROUP BY week
),
span AS (
    SELECT unnest(range(
        CAST(max(week) - to_days(CAST($weeks AS INTEGER) * 7 - 7) AS TIMESTAMP),
        CAST(max(week) AS TIMESTAMP) + INTERVAL 1 DAY,
        INTERVAL 7 DAY
    )) AS week
    FROM weeks
)
SELECT CAST(s.week AS DATE) AS week, CAST(coalesce(w.videos, 0) AS BIGINT) AS videos
FROM span s LEFT JOIN weeks w ON w.week = CAST(s.week AS DATE)
WHERE s.week IS NOT NULL
ORDER BY week;
