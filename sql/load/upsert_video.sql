INSERT INTO videos (video_id, channel_id, title, url, published_at, duration_s, extractor, status,
                    failed_stage, error_class, error_message, first_seen_at, updated_at)
VALUES ($video_id, $channel_id, $title, $url, $published_at, $duration_s, $extractor, $status,
        $failed_stage, $error_class, $error_message, $now, $now)
ON CONFLICT (video_id) DO UPDATE SET
    channel_id = excluded.channel_id,
    title = excluded.title,
    url = excluded.url,
    published_at = excluded.published_at,
    duration_s = coalesce(excluded.duration_s, videos.duration_s),
    extractor = excluded.extractor,
    status = excluded.status,
    failed_stage = excluded.failed_stage,
    error_class = excluded.error_class,
    error_message = excluded.error_message,
    updated_at = excluded.updated_at;
