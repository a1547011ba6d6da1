-- Replace the embeddings of $video_ids under $model (one model per load) with $rows (JSON): delete, then insert.
DELETE FROM embeddings WHERE model = $model AND video_id IN (SELECT unnest($video_ids));
INSERT INTO embeddings (video_id, model, kind, idx, start_s, end_s, text, embedding, created_at)
SELECT r.video_id, r.model, r.kind, r.idx, r.start_s, r.end_s, r.text, r.embedding, r.created_at
FROM (SELECT unnest(CAST(json($rows) AS STRUCT(
        video_id VARCHAR, model VARCHAR, kind VARCHAR, idx INTEGER, start_s DOUBLE, end_s DOUBLE, text VARCHAR,
        embedding FLOAT[], created_at TIMESTAMPTZ
     )[]), recursive := true)) r;
