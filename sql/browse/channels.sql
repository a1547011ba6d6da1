-- The catalog page's channel list: each channel with its videos by status and its newest upload.
-- channel_overview's columns that the page shows, from the tables: the view also sums every transcript's audio
-- and every video's complexity, which the page does not show (a video has one transcript: no row is doubled).
SELECT c.channel_id, c.title AS channel, c.url,
       coalesce(p.videos, 0) AS videos, coalesce(p.loaded, 0) AS loaded, coalesce(p.failed, 0) AS failed,
       coalesce(p.pending, 0) AS pending, p.last_published_at
FROM channels c
LEFT JOIN (
    SELECT channel_id,
           count(*) AS videos,
           count(*) FILTER (WHERE status = 'loaded') AS loaded,
           count(*) FILTER (WHERE status = 'failed') AS failed,
           count(*) FILTER (WHERE status = 'pending') AS pending,
           max(published_at) AS last_published_at
    FROM videos
    GROUP BY channel_id
) p USING (channel_id)
ORDER BY lower(c.title), c.channel_id;
