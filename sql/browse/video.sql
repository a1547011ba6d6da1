-- One video for its page: the overview row, where its transcript came from, and how to link into it.
SELECT o.*, v.channel_id, v.extractor, t.model AS transcript_model, t.audio_duration_s
FROM video_overview o
JOIN videos v USING (video_id)
LEFT JOIN transcripts t USING (video_id)
WHERE o.video_id = $video_id;
