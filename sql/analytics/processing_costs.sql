-- What ingesting cost per channel and in all: audio hours, transcription speed, LLM tokens.
-- tubescribe query --file sql/analytics/processing_costs.sql
SELECT channel, videos, transcribed, audio_hours, transcription_hours, transcription_speed,
       summaries, llm_tokens_in, llm_tokens_out, summary_hours
FROM processing_stats
ORDER BY channel_id IS NULL, audio_hours DESC, channel;
