-- What `tubescribe search` searches: one row per transcript segment and per part of each video's
-- newest summary. Derived from the other tables and rebuilt, with its full-text index
-- (schema fts_main_search_docs), at the end of every load (plugins/tubescribe/search.py).
CREATE TABLE IF NOT EXISTS search_docs (
    doc_id    BIGINT NOT NULL,          -- unique within a build; the fts index's document key
    video_id  VARCHAR NOT NULL,
    kind      VARCHAR NOT NULL,         -- 'segment', 'introduction', 'section' or 'topics'
    part      INTEGER NOT NULL,         -- segment idx, section idx, or 0
    start_s   DOUBLE NOT NULL,          -- where a hit should open the video
    text      VARCHAR NOT NULL
);
