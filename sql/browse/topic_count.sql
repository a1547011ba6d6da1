-- How many normalized topics the catalog holds: for paging the topics page.
SELECT count(DISTINCT tag_normalized) FROM video_tags;
