-- Each video's row after a run ($rows, JSON: one object per video). attempts counts consecutive runs that
-- failed it (deferred and blocked runs are not its fault and do not count); a transient failure that
-- reaches $max_attempts becomes permanent.
INSERT INTO videos (video_id, channel_id, title, url, published_at, duration_s, extractor, status,
                    failed_stage, error_class, error_message, first_seen_at, updated_at,
                    error_kind, attempts, last_attempt_at)
SELECT r.video_id, r.channel_id, r.title, r.url, r.published_at, r.duration_s, r.extractor, r.status,
       r.failed_stage, r.error_class, r.error_message, $now, $now,
       CASE WHEN r.error_kind = 'transient' AND $max_attempts <= 1 THEN 'permanent' ELSE r.error_kind END,
       CASE WHEN r.error_kind IN ('permanent', 'transient') THEN 1 ELSE 0 END,
       CASE WHEN r.error_kind IS NULL THEN NULL ELSE $now END
FROM (SELECT unnest(CAST(json($rows) AS STRUCT(
        video_id VARCHAR, channel_id VARCHAR, title VARCHAR, url VARCHAR, published_at TIMESTAMPTZ,
        duration_s DOUBLE, extractor VARCHAR, status VARCHAR, failed_stage VARCHAR, error_kind VARCHAR,
        error_class VARCHAR, error_message VARCHAR
     )[]), recursive := true)) r
ON CONFLICT (video_id) DO UPDATE SET
    channel_id = excluded.channel_id,
    title = excluded.title,
    url = excluded.url,
    published_at = coalesce(excluded.published_at, videos.published_at),
    duration_s = coalesce(excluded.duration_s, videos.duration_s),
    extractor = excluded.extractor,
    status = excluded.status,
    failed_stage = excluded.failed_stage,
    error_class = excluded.error_class,
    error_message = excluded.error_message,
    updated_at = excluded.updated_at,
    error_kind = CASE
        WHEN excluded.error_kind = 'transient' AND coalesce(videos.attempts, 0) + 1 >= $max_attempts
        THEN 'permanent'
        ELSE excluded.error_kind END,
    attempts = CASE
        WHEN excluded.error_kind IS NULL THEN 0
        WHEN excluded.error_kind IN ('deferred', 'blocked') THEN coalesce(videos.attempts, 0)
        ELSE coalesce(videos.attempts, 0) + 1 END,
    last_attempt_at = coalesce(excluded.last_attempt_at, videos.last_attempt_at);
