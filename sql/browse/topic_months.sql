-- The $topics most frequent topics of the last $months months and how many videos carried each, month by month.
-- The figures of topic_frequency_by_month, counted over the recent videos only: the view counts every month
-- of the catalog before the filter could apply (the whole of video_tags). Months are UTC months, taken from
-- the epoch (make_timestamp(epoch_us(...)): the view's timezone('UTC', ...) month at a quarter of its cost).
WITH newest AS (  -- the view's max(month): the month of the newest dated video that carries a topic
    SELECT CAST(date_trunc('month', make_timestamp(epoch_us(max(published_at)))) AS DATE) AS month
    FROM videos
    WHERE video_id IN (SELECT video_id FROM video_tags)
),
months AS (  -- the videos of the last $months months (month > newest - $months), with their month
    SELECT v.video_id, CAST(date_trunc('month', make_timestamp(epoch_us(v.published_at))) AS DATE) AS month
    FROM videos v, newest n
    WHERE epoch_us(v.published_at) >= epoch_us(n.month - to_months(CAST($months AS INTEGER) - 1))
),
recent AS (
    SELECT m.month, t.tag_normalized AS topic, count(DISTINCT t.video_id) AS videos
    FROM video_tags t JOIN months m USING (video_id)
    GROUP BY ALL
),
top AS (
    SELECT topic FROM recent GROUP BY topic ORDER BY sum(videos) DESC, topic LIMIT $topics
)
SELECT r.topic, r.month, r.videos
FROM recent r JOIN top USING (topic)
ORDER BY r.topic, r.month;
