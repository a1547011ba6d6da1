-- New videos per ISO week, all channels together, over the $weeks weeks up to the newest upload (the catalog
-- chart); weeks without an upload count 0, so the chart's gaps are true. new_videos_per_week's counts, taken for
-- the span's videos only (the view cuts every video's week first), with UTC weeks from the epoch
-- (make_timestamp(epoch_us(...)): the week of timezone('UTC', ...) at a quarter of its cost).
WITH newest AS (
    SELECT CAST(date_trunc('week', make_timestamp(epoch_us(max(published_at)))) AS DATE) AS week FROM videos
),
span AS (
    SELECT unnest(range(
        CAST(week - to_days(CAST($weeks AS INTEGER) * 7 - 7) AS TIMESTAMP),
        CAST(week AS TIMESTAMP) + INTERVAL 1 DAY,
        INTERVAL 7 DAY
    )) AS week
    FROM newest
),
weeks AS (
    SELECT CAST(date_trunc('week', make_timestamp(epoch_us(v.published_at))) AS DATE) AS week, count(*) AS videos
    FROM videos v, newest n
    WHERE epoch_us(v.published_at) >= epoch_us(CAST(n.week - to_days(CAST($weeks AS INTEGER) * 7 - 7) AS TIMESTAMP))
    GROUP BY 1
)
SELECT CAST(s.week AS DATE) AS week, CAST(coalesce(w.videos, 0) AS BIGINT) AS videos
FROM span s LEFT JOIN weeks w ON w.week = CAST(s.week AS DATE)
WHERE s.week IS NOT NULL
ORDER BY week;
