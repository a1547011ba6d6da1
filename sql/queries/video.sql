-- One video's overview (tubescribe show).
SELECT * FROM video_overview WHERE video_id = $video_id;
