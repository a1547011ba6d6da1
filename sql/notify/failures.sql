-- The videos a run could not land, and why: written by a load at or after the run's start ($since).
SELECT v.video_id, v.title, coalesce(v.failed_stage, '') AS stage, coalesce(v.error_kind, 'unknown') AS error_kind,
       coalesce(v.error_message, v.error_class, '') AS message
FROM videos v
WHERE v.status <> 'loaded' AND v.updated_at >= $since
ORDER BY v.error_kind, v.video_id;
