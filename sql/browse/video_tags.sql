-- One video's topics from its newest summary, each with the normalized form the topics pages use.
SELECT tag, tag_normalized FROM video_tags WHERE video_id = $video_id ORDER BY idx;
