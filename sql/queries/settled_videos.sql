-- Videos a run need not touch: landed with the current transcript settings and summary, and (unless
-- the run retries them) permanent failures. The nightly run skips these before downloading anything.
SELECT v.video_id
FROM videos v
WHERE (
        v.status = 'loaded'
        AND EXISTS (SELECT 1 FROM transcripts t WHERE t.video_id = v.video_id AND t.settings_key = $transcript_key)
        AND EXISTS (SELECT 1 FROM summaries s WHERE s.summary_id = v.video_id || '-' || $summary_key)
      )
   OR (NOT $retry_permanent AND v.status = 'failed' AND v.error_kind = 'permanent');
