-- The batch's channels ($rows, JSON: one object per channel), new or renamed. MERGE rather than
-- ON CONFLICT: a DuckLake catalog has no keys to conflict on (sql/schema/001_tables.sql).
MERGE INTO channels USING (
    SELECT r.channel_id, r.title, r.url, r.extractor
    FROM (SELECT unnest(CAST(json($rows) AS STRUCT(
            channel_id VARCHAR, title VARCHAR, url VARCHAR, extractor VARCHAR
         )[]), recursive := true)) r
) AS r ON channels.channel_id = r.channel_id
WHEN MATCHED THEN UPDATE SET title = r.title, url = r.url, extractor = r.extractor, last_listed_at = $now
WHEN NOT MATCHED THEN INSERT (channel_id, title, url, extractor, first_seen_at, last_listed_at)
    VALUES (r.channel_id, r.title, r.url, r.extractor, $now, $now);
