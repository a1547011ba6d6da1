-- What each stage cost per second of audio, by model: the median over finished runs (tubescribe plan).
-- Failed runs and runs that handled no audio (skipped work costs nothing) are left out.
SELECT stage, coalesce(model, '') AS model, count(*) AS runs,
       median(seconds / audio_s) AS seconds_per_audio_s
FROM stage_runs
WHERE status = 'done' AND audio_s > 0
GROUP BY stage, coalesce(model, '')
ORDER BY stage, model;
