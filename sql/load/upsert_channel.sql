INSERT INTO channels (channel_id, title, url, extractor, first_seen_at, last_listed_at)
VALUES ($channel_id, $title, $url, $extractor, $now, $now)
ON CONFLICT (channel_id) DO UPDATE SET
    title = excluded.title,
    url = excluded.url,
    extractor = excluded.extractor,
    last_listed_at = excluded.last_listed_at;
