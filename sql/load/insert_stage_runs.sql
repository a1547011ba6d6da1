-- A video's timing records; a record already loaded (same video, stage and start) is left as it is.
INSERT INTO stage_runs (video_id, stage, run_id, started_at, seconds, status, audio_s, model)
SELECT $video_id, r.stage, r.run_id, r.started_at, r.seconds, r.status, r.audio_s, r.model
FROM (SELECT unnest($runs, recursive := true)) r
ON CONFLICT DO NOTHING;
