-- The newest $limit loaded videos Whisper transcribed (their media was downloaded): what media costs on disk.
SELECT v.video_id, t.audio_duration_s
FROM videos v
JOIN transcripts t ON t.video_id = v.video_id
WHERE v.status = 'loaded' AND coalesce(t.source, 'asr') = 'asr' AND t.audio_duration_s > 0
ORDER BY t.transcribed_at DESC, v.video_id
LIMIT $limit;
