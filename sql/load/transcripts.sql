-- Replace transcripts ($rows, JSON) and all of their segments ($segments, JSON): delete, then insert
-- (no INSERT OR REPLACE: a DuckLake catalog has no keys). A transcript replaced by one made another
-- way (another settings_key, in $keys) is kept in replaced_transcripts first; reloading the same
-- transcript keeps nothing.
INSERT INTO replaced_transcripts (video_id, text, language, audio_duration_s, model, settings_key, source,
                                  caption_kind, caption_track, segment_count, transcribed_at, replaced_at)
SELECT t.video_id, t.text, t.language, t.audio_duration_s, t.model, t.settings_key, coalesce(t.source, 'asr'),
       t.caption_kind, t.caption_track, t.segment_count, t.transcribed_at, $now
FROM transcripts t
JOIN (SELECT unnest(CAST(json($keys) AS STRUCT(video_id VARCHAR, settings_key VARCHAR)[]), recursive := true)) k
  ON k.video_id = t.video_id AND k.settings_key <> t.settings_key;
DELETE FROM segments WHERE video_id IN (SELECT unnest($video_ids));
DELETE FROM transcripts WHERE video_id IN (SELECT unnest($video_ids));
INSERT INTO transcripts (video_id, text, language, language_probability, audio_duration_s, model,
                         settings_key, segment_count, transcribed_at, elapsed_s, source, caption_kind,
                         caption_track, caption_format, caption_note)
SELECT r.video_id, r.text, r.language, r.language_probability, r.audio_duration_s, r.model,
       r.settings_key, r.segment_count, r.transcribed_at, r.elapsed_s, r.source, r.caption_kind,
       r.caption_track, r.caption_format, r.caption_note
FROM (SELECT unnest(CAST(json($rows) AS STRUCT(
        video_id VARCHAR, text VARCHAR, language VARCHAR, language_probability DOUBLE, audio_duration_s
        DOUBLE,
        model VARCHAR, settings_key VARCHAR, segment_count INTEGER, transcribed_at TIMESTAMPTZ,
        elapsed_s DOUBLE, source VARCHAR, caption_kind VARCHAR, caption_track VARCHAR,
        caption_format VARCHAR, caption_note VARCHAR
     )[]), recursive := true)) r;
INSERT INTO segments (video_id, idx, start_s, end_s, text)
SELECT s.video_id, s.idx, s.start_s, s.end_s, s.text
FROM (SELECT unnest(CAST(json($segments) AS STRUCT(
        video_id VARCHAR, idx INTEGER, start_s DOUBLE, end_s DOUBLE, text VARCHAR
     )[]), recursive := true)) s;
