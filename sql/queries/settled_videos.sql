-- Videos a run need not touch: landed with a transcript the run accepts (Whisper's with the current
-- settings; with $other_whisper, Whisper's with any; captions of the kinds in $caption_keys) and the
-- current summary of that transcript, and (unless the run retries them) permanent failures. The
-- nightly run skips these before downloading anything. See pipeline.steps.accepted_transcripts.
SELECT v.video_id
FROM videos v
WHERE (
        v.status = 'loaded'
        AND EXISTS (
            SELECT 1 FROM transcripts t JOIN summaries s ON s.video_id = t.video_id
            WHERE t.video_id = v.video_id
              AND (t.settings_key = $whisper_key OR ($other_whisper AND coalesce(t.source, 'asr') = 'asr')
                   OR list_contains($caption_keys, t.settings_key))
              AND s.summary_id = v.video_id || '-' || $summary_key
              AND (s.transcript_key IS NULL OR s.transcript_key = t.settings_key)
        )
      )
   OR (NOT $retry_permanent AND v.status = 'failed' AND v.error_kind = 'permanent');
