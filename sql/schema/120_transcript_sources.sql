-- Captions first (issue 13): where each transcript came from. Rows written before are Whisper's: their
-- source stays NULL and the views read it as 'asr' (an UPDATE would rewrite every transcript's files
-- on a lake). caption_note says why the captions were used, or why Whisper was needed.
ALTER TABLE transcripts ADD COLUMN IF NOT EXISTS source VARCHAR;
ALTER TABLE transcripts ADD COLUMN IF NOT EXISTS caption_kind VARCHAR;
ALTER TABLE transcripts ADD COLUMN IF NOT EXISTS caption_track VARCHAR;
ALTER TABLE transcripts ADD COLUMN IF NOT EXISTS caption_format VARCHAR;
ALTER TABLE transcripts ADD COLUMN IF NOT EXISTS caption_note VARCHAR;
-- The transcript a summary was made from (its settings_key); NULL: made before this was recorded.
ALTER TABLE summaries ADD COLUMN IF NOT EXISTS transcript_key VARCHAR;

-- A video's earlier transcripts, kept when a new one replaces it (captions upgraded to Whisper, a
-- bigger Whisper model): the words as they were, with when they were replaced.
CREATE TABLE IF NOT EXISTS replaced_transcripts (  -- key: video_id, settings_key
    video_id              VARCHAR NOT NULL,
    text                  VARCHAR NOT NULL,
    language              VARCHAR NOT NULL,
    audio_duration_s      DOUBLE NOT NULL,
    model                 VARCHAR NOT NULL,
    settings_key          VARCHAR NOT NULL,
    source                VARCHAR NOT NULL,
    caption_kind          VARCHAR,
    caption_track         VARCHAR,
    segment_count         INTEGER NOT NULL,
    transcribed_at        TIMESTAMPTZ NOT NULL,
    replaced_at           TIMESTAMPTZ NOT NULL
);

-- video_overview as in 002_views.sql, with the transcript's source.
CREATE OR REPLACE VIEW video_overview AS
SELECT v.video_id, c.title AS channel, v.title, v.url, v.published_at, v.duration_s, v.status,
       v.failed_stage, v.error_message, s.introduction, s.topics, s.general_topics,
       s.backend AS summary_backend, s.model AS summary_model,
       CASE WHEN t.video_id IS NOT NULL THEN coalesce(t.source, 'asr') END AS transcript_source,
       t.caption_kind, t.language AS transcript_language
FROM videos v
LEFT JOIN channels c USING (channel_id)
LEFT JOIN latest_summaries s USING (video_id)
LEFT JOIN transcripts t USING (video_id);

-- video_processing as in 100_analyst_views.sql, with where the transcript came from and why.
CREATE OR REPLACE VIEW video_processing AS
SELECT v.video_id, v.channel_id, v.status,
       t.audio_duration_s AS audio_s,
       t.elapsed_s AS transcription_s,
       round(t.audio_duration_s / nullif(t.elapsed_s, 0), 2) AS transcription_speed,
       CASE WHEN coalesce(t.source, 'asr') = 'asr' THEN t.model END AS whisper_model,
       CASE WHEN t.video_id IS NOT NULL THEN coalesce(t.source, 'asr') END AS transcript_source,
       t.caption_kind, t.caption_track, t.caption_format, t.caption_note,
       s.backend AS summary_backend, s.model AS summary_model,
       s.tokens_in, s.tokens_out, s.latency_s AS summary_s
FROM videos v
LEFT JOIN transcripts t USING (video_id)
LEFT JOIN latest_summaries s USING (video_id);
