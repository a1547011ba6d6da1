-- The catalog page's channel list: each channel with its videos by status and its newest upload.
SELECT channel_id, channel, url, videos, loaded, failed, pending, last_published_at
FROM channel_overview
ORDER BY lower(channel), channel_id;
