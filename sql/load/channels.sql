-- The batch's channels ($rows, JSON: one object per channel), new or renamed.
INSERT INTO channels (channel_id, title, url, extractor, first_seen_at, last_listed_at)
SELECT r.channel_id, r.title, r.url, r.extractor, $now, $now
FROM (SELECT unnest(CAST(json($rows) AS STRUCT(
        channel_id VARCHAR, title VARCHAR, url VARCHAR, extractor VARCHAR
     )[]), recursive := true)) r
ON CONFLICT (channel_id) DO UPDATE SET
    title = excluded.title,
    url = excluded.url,
    extractor = excluded.extractor,
    last_listed_at = excluded.last_listed_at;
