-- Replace transcripts ($rows, JSON) and all of their segments ($segments, JSON): delete, then insert
-- (no INSERT OR REPLACE: a DuckLake catalog has no keys).
DELETE FROM segments WHERE video_id IN (SELECT unnest($video_ids));
DELETE FROM transcripts WHERE video_id IN (SELECT unnest($video_ids));
INSERT INTO transcripts (video_id, text, language, language_probability, audio_duration_s, model,
                         settings_key, segment_count, transcribed_at, elapsed_s)
SELECT r.video_id, r.text, r.language, r.language_probability, r.audio_duration_s, r.model,
       r.settings_key, r.segment_count, r.transcribed_at, r.elapsed_s
FROM (SELECT unnest(CAST(json($rows) AS STRUCT(
        video_id VARCHAR, text VARCHAR, language VARCHAR, language_probability DOUBLE, audio_duration_s
        DOUBLE,
        model VARCHAR, settings_key VARCHAR, segment_count INTEGER, transcribed_at TIMESTAMPTZ,
        elapsed_s DOUBLE
     )[]), recursive := true)) r;
INSERT INTO segments (video_id, idx, start_s, end_s, text)
SELECT s.video_id, s.idx, s.start_s, s.end_s, s.text
FROM (SELECT unnest(CAST(json($segments) AS STRUCT(
        video_id VARCHAR, idx INTEGER, start_s DOUBLE, end_s DOUBLE, text VARCHAR
     )[]), recursive := true)) s;
