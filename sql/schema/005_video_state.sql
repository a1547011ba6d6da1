-- Per-video state across runs: what kind of failure, how many runs failed, and when.
ALTER TABLE videos ADD COLUMN IF NOT EXISTS error_kind VARCHAR;          -- permanent, deferred, transient, blocked
ALTER TABLE videos ADD COLUMN IF NOT EXISTS attempts INTEGER DEFAULT 0;  -- consecutive runs that failed it
ALTER TABLE videos ADD COLUMN IF NOT EXISTS last_attempt_at TIMESTAMPTZ; -- when it last failed

CREATE OR REPLACE VIEW ingest_failures AS
SELECT v.video_id, v.title, c.title AS channel, v.failed_stage AS stage, v.error_kind, v.error_class,
       v.error_message AS message, v.attempts, v.last_attempt_at
FROM videos v
LEFT JOIN channels c USING (channel_id)
WHERE v.status <> 'loaded' AND v.error_kind IS NOT NULL
ORDER BY v.last_attempt_at DESC, v.video_id;
