-- How many videos carry a (normalized) topic: for paging its page, and its 404 when none does.
SELECT count(DISTINCT video_id) FROM video_tags WHERE tag_normalized = $topic;
