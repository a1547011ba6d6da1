-- One page of the normalized topics, most videos first, with the spellings folded into each.
SELECT tag_normalized AS topic, count(DISTINCT video_id) AS videos, list(DISTINCT tag ORDER BY tag) AS spellings
FROM video_tags
GROUP BY tag_normalized
ORDER BY videos DESC, topic
LIMIT $limit OFFSET $offset;
