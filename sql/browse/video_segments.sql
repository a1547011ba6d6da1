-- One video's transcript, segment by segment, with the second each starts.
SELECT idx, start_s, end_s, text FROM segments WHERE video_id = $video_id ORDER BY idx;
