-- Search by meaning (issue 14): each video's ~30-s transcript chunks and summary sections as vectors,
-- one set per embedding model (a model change re-embeds; vectors of two models are never compared).
-- FLOAT[] rather than FLOAT[n]: the dimension is the model's (384 for e5-small, 1536 for OpenAI's).
CREATE TABLE IF NOT EXISTS embeddings (  -- key: video_id, model, kind, idx
    video_id    VARCHAR NOT NULL,
    model       VARCHAR NOT NULL,   -- backend/model, e.g. local/multilingual-e5-small-q4
    kind        VARCHAR NOT NULL,   -- chunk (of the transcript) or section (of the summary)
    idx         INTEGER NOT NULL,
    start_s     DOUBLE,
    end_s       DOUBLE,
    text        VARCHAR NOT NULL,
    embedding   FLOAT[] NOT NULL,   -- L2-normalized: the inner product is the cosine
    created_at  TIMESTAMPTZ NOT NULL
);
