-- The videos of one run as the catalog has them now (tubescribe ingest's closing table).
SELECT video_id, title, status, coalesce(failed_stage || ': ' || error_message, array_to_string(topics, ', ')) AS detail
FROM video_overview
WHERE list_contains($video_ids, video_id)
ORDER BY published_at DESC NULLS LAST, video_id;
