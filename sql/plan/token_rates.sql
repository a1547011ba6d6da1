-- LLM tokens per second of audio for summaries by $backend and $model that recorded their tokens.
SELECT count(*) AS summaries,
       sum(s.tokens_in) / sum(t.audio_duration_s) AS tokens_in_per_audio_s,
       sum(s.tokens_out) / sum(t.audio_duration_s) AS tokens_out_per_audio_s
FROM summaries s
JOIN transcripts t ON t.video_id = s.video_id
WHERE s.backend = $backend AND s.model = $model
  AND s.tokens_in IS NOT NULL AND s.tokens_out IS NOT NULL AND t.audio_duration_s > 0;
