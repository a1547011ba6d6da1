-- How many videos the catalog holds (of one channel, or all when $channel_id is NULL): for paging.
SELECT count(*) FROM videos WHERE $channel_id IS NULL OR channel_id = $channel_id;
