-- Timing records ($rows, JSON); a record already loaded (same video, stage and start) is left as it is.
INSERT INTO stage_runs (video_id, stage, run_id, started_at, seconds, status, audio_s, model)
SELECT DISTINCT ON (r.video_id, r.stage, r.started_at)
       r.video_id, r.stage, r.run_id, r.started_at, r.seconds, r.status, r.audio_s, r.model
FROM (SELECT unnest(CAST(json($rows) AS STRUCT(
        video_id VARCHAR, stage VARCHAR, run_id VARCHAR, started_at TIMESTAMPTZ, seconds DOUBLE, status
        VARCHAR, audio_s DOUBLE, model VARCHAR
     )[]), recursive := true)) r
WHERE NOT EXISTS (SELECT 1 FROM stage_runs s
                  WHERE s.video_id = r.video_id AND s.stage = r.stage AND s.started_at = r.started_at);
