-- Timing records ($rows, JSON); a record already loaded (same video, stage and start) is left as it is.
INSERT INTO stage_runs (video_id, stage, run_id, started_at, seconds, status, audio_s, model)
SELECT r.video_id, r.stage, r.run_id, r.started_at, r.seconds, r.status, r.audio_s, r.model
FROM (SELECT unnest(CAST(json($rows) AS STRUCT(
        video_id VARCHAR, stage VARCHAR, run_id VARCHAR, started_at TIMESTAMPTZ, seconds DOUBLE, status
        VARCHAR, audio_s DOUBLE, model VARCHAR
     )[]), recursive := true)) r
ON CONFLICT DO NOTHING;
