-- Each video's row after a run ($rows, JSON: one object per video). attempts counts consecutive runs that
-- failed it (deferred and blocked runs are not its fault and do not count); a transient failure that
-- reaches $max_attempts becomes permanent. MERGE on video_id: a DuckLake catalog has no keys.
MERGE INTO videos USING (
    SELECT r.*, CASE WHEN r.error_kind IS NULL THEN NULL ELSE $now END AS attempt_at
    FROM (SELECT unnest(CAST(json($rows) AS STRUCT(
            video_id VARCHAR, channel_id VARCHAR, title VARCHAR, url VARCHAR, published_at TIMESTAMPTZ,
            duration_s DOUBLE, extractor VARCHAR, status VARCHAR, failed_stage VARCHAR, error_kind VARCHAR,
            error_class VARCHAR, error_message VARCHAR
         )[]), recursive := true)) r
) AS r ON videos.video_id = r.video_id
WHEN MATCHED THEN UPDATE SET
    channel_id = r.channel_id,
    title = r.title,
    url = r.url,
    published_at = coalesce(r.published_at, videos.published_at),
    duration_s = coalesce(r.duration_s, videos.duration_s),
    extractor = r.extractor,
    status = r.status,
    failed_stage = r.failed_stage,
    error_class = r.error_class,
    error_message = r.error_message,
    updated_at = $now,
    error_kind = CASE
        WHEN r.error_kind = 'transient' AND coalesce(videos.attempts, 0) + 1 >= $max_attempts
        THEN 'permanent'
        ELSE r.error_kind END,
    attempts = CASE
        WHEN r.error_kind IS NULL THEN 0
        WHEN r.error_kind IN ('deferred', 'blocked') THEN coalesce(videos.attempts, 0)
        ELSE coalesce(videos.attempts, 0) + 1 END,
    last_attempt_at = coalesce(r.attempt_at, videos.last_attempt_at)
WHEN NOT MATCHED THEN INSERT (video_id, channel_id, title, url, published_at, duration_s, extractor, status,
                              failed_stage, error_class, error_message, first_seen_at, updated_at,
                              error_kind, attempts, last_attempt_at)
    VALUES (r.video_id, r.channel_id, r.title, r.url, r.published_at, r.duration_s, r.extractor, r.status,
            r.failed_stage, r.error_class, r.error_message, $now, $now,
            CASE WHEN r.error_kind = 'transient' AND $max_attempts <= 1 THEN 'permanent' ELSE r.error_kind END,
            CASE WHEN r.error_kind IN ('permanent', 'transient') THEN 1 ELSE 0 END,
            r.attempt_at);
