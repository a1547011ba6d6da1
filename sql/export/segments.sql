-- One video's timed segments, in order (subtitles and the Markdown transcript).
SELECT idx, start_s, end_s, text FROM segments WHERE video_id = $video_id ORDER BY idx;
