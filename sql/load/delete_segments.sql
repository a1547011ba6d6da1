DELETE FROM segments WHERE video_id = $video_id;
