-- One page of the normalized topics, most videos first, with the spellings folded into each.
-- The spellings are gathered for the page's topics only (a list per topic over the whole catalog was most of
-- the cost), and the page's rows carry how many topics there are in all.
WITH counted AS (
    SELECT tag_normalized AS topic, count(DISTINCT video_id) AS videos, count(*) OVER () AS total
    FROM video_tags
    GROUP BY tag_normalized
    ORDER BY videos DESC, topic
    LIMIT $limit OFFSET $offset
)
SELECT c.topic, c.videos, list(DISTINCT t.tag ORDER BY t.tag) AS spellings, c.total
FROM counted c JOIN video_tags t ON t.tag_normalized = c.topic
GROUP BY c.topic, c.videos, c.total
ORDER BY c.videos DESC, c.topic;
