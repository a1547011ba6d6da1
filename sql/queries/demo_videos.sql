-- Every video with its introduction and topics, oldest first (tubescribe demo).
SELECT video_id, title, introduction, topics, general_topics FROM video_overview ORDER BY published_at, video_id;
