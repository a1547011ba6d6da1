-- One video's three general fields with their complexity (0.00-1.00), in the summary's order.
SELECT name, complexity FROM video_general_topics WHERE video_id = $video_id ORDER BY idx;
