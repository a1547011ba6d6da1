-- The newest failures of the last runs (ingest_failures), for the catalog page.
SELECT video_id, title, channel, stage, error_kind, message, attempts, last_attempt_at
FROM ingest_failures
LIMIT $limit;
