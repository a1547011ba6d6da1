-- Every video with a transcript or a summary, and what its Markdown page shows (tubescribe export).
SELECT o.video_id, o.title, o.channel, o.url, v.extractor, o.published_at, o.duration_s, o.introduction,
       o.topics, o.general_topics, o.summary_backend, o.summary_model
FROM video_overview o JOIN videos v USING (video_id)
WHERE o.introduction IS NOT NULL OR EXISTS (SELECT 1 FROM transcripts t WHERE t.video_id = o.video_id)
ORDER BY o.published_at NULLS LAST, o.video_id;
