-- Every video with its introduction, topics and where its transcript came from, oldest first (tubescribe demo).
SELECT v.video_id, v.title, v.introduction, v.topics, v.general_topics, p.transcript_source, p.caption_kind,
       p.whisper_model, p.caption_note
FROM video_overview v JOIN video_processing p USING (video_id)
ORDER BY v.published_at, v.video_id;
