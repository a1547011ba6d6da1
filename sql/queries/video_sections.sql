-- One video's sections from its newest summary, with time ranges, bullets and topics (tubescribe show).
SELECT idx, title, start_s, end_s, bullets, topics FROM video_sections WHERE video_id = $video_id ORDER BY idx;
