-- Where the time goes: one row per video, stage and run (done or failed; skipped work costs nothing).
CREATE TABLE IF NOT EXISTS stage_runs (
    video_id    VARCHAR NOT NULL,
    stage       VARCHAR NOT NULL,      -- download, transcribe, summarize
    run_id      VARCHAR NOT NULL,      -- Airflow's run id ('' outside Airflow)
    started_at  TIMESTAMPTZ NOT NULL,
    seconds     DOUBLE NOT NULL,       -- wall seconds the stage took for this video
    status      VARCHAR NOT NULL,      -- done or failed
    audio_s     DOUBLE,                -- seconds of audio the stage handled
    model       VARCHAR                -- Whisper model, or summarizer backend/model
    -- key: video_id, stage, started_at
);

CREATE OR REPLACE VIEW stage_timings_by_run AS
SELECT run_id, stage, count(*) AS videos, count(*) FILTER (status = 'failed') AS failed,
       round(sum(seconds), 1) AS seconds, round(sum(audio_s), 1) AS audio_s,
       round(sum(audio_s) / nullif(sum(seconds), 0), 2) AS audio_s_per_s,
       min(started_at) AS started_at
FROM stage_runs
GROUP BY run_id, stage
ORDER BY started_at DESC, stage;

CREATE OR REPLACE VIEW stage_timings_by_day AS
SELECT CAST(timezone('UTC', started_at) AS DATE) AS day, stage, count(*) AS videos,
       count(*) FILTER (status = 'failed') AS failed, round(sum(seconds), 1) AS seconds,
       round(sum(audio_s), 1) AS audio_s, round(sum(audio_s) / nullif(sum(seconds), 0), 2) AS audio_s_per_s
FROM stage_runs
GROUP BY day, stage
ORDER BY day DESC, stage;
