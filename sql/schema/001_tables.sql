-- The catalog's tables. Migrations 001-100 stay idempotent (IF NOT EXISTS): catalogs made before
-- schema_migrations existed hold some of them already, and are upgraded by applying them all once.
-- No keys or constraints beyond NOT NULL: a DuckLake catalog has no PRIMARY KEY, UNIQUE or foreign
-- keys, and one set of SQL serves both backends, so the loads keep rows unique themselves (MERGE, or
-- delete then insert, on the keys noted in each table's comment). docs/catalog.md documents each column.

CREATE TABLE IF NOT EXISTS channels (  -- key: channel_id
    channel_id      VARCHAR NOT NULL,
    title           VARCHAR NOT NULL,
    url             VARCHAR NOT NULL,
    extractor       VARCHAR NOT NULL,
    first_seen_at   TIMESTAMPTZ NOT NULL,
    last_listed_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS videos (  -- key: video_id
    video_id        VARCHAR NOT NULL,
    channel_id      VARCHAR NOT NULL,
    title           VARCHAR NOT NULL,
    url             VARCHAR NOT NULL,
    published_at    TIMESTAMPTZ,
    duration_s      DOUBLE,
    extractor       VARCHAR NOT NULL,
    status          VARCHAR NOT NULL,      -- 'loaded', 'failed' or 'pending'
    failed_stage    VARCHAR,               -- set when status = 'failed'
    error_class     VARCHAR,
    error_message   VARCHAR,
    first_seen_at   TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS transcripts (  -- key: video_id
    video_id              VARCHAR NOT NULL,
    text                  VARCHAR NOT NULL,
    language              VARCHAR NOT NULL,
    language_probability  DOUBLE,
    audio_duration_s      DOUBLE NOT NULL,
    model                 VARCHAR NOT NULL,
    settings_key          VARCHAR NOT NULL,
    segment_count         INTEGER NOT NULL,
    transcribed_at        TIMESTAMPTZ NOT NULL,
    elapsed_s             DOUBLE NOT NULL
);

CREATE TABLE IF NOT EXISTS segments (
    video_id  VARCHAR NOT NULL,
    idx       INTEGER NOT NULL,
    start_s   DOUBLE NOT NULL,
    end_s     DOUBLE NOT NULL,
    text      VARCHAR NOT NULL
    -- key: video_id, idx
);

CREATE TABLE IF NOT EXISTS summaries (  -- key: summary_id
    summary_id      VARCHAR NOT NULL,   -- video_id + '-' + hash(backend, model, prompt_version)
    video_id        VARCHAR NOT NULL,
    backend         VARCHAR NOT NULL,
    model           VARCHAR NOT NULL,
    prompt_version  VARCHAR NOT NULL,
    summary_json    JSON NOT NULL,
    introduction    VARCHAR NOT NULL,
    tokens_in       INTEGER,
    tokens_out      INTEGER,
    latency_s       DOUBLE,
    created_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS summary_sections (
    summary_id  VARCHAR NOT NULL,
    video_id    VARCHAR NOT NULL,
    idx         INTEGER NOT NULL,          -- 1..5, in the video's order
    title       VARCHAR NOT NULL,
    start_s     DOUBLE,
    end_s       DOUBLE
    -- key: summary_id, idx
);

CREATE TABLE IF NOT EXISTS section_bullets (
    summary_id   VARCHAR NOT NULL,
    video_id     VARCHAR NOT NULL,
    section_idx  INTEGER NOT NULL,
    idx          INTEGER NOT NULL,         -- 1..4
    text         VARCHAR NOT NULL
    -- key: summary_id, section_idx, idx
);

CREATE TABLE IF NOT EXISTS section_topics (
    summary_id   VARCHAR NOT NULL,
    video_id     VARCHAR NOT NULL,
    section_idx  INTEGER NOT NULL,
    idx          INTEGER NOT NULL,         -- 1..3
    topic        VARCHAR NOT NULL
    -- key: summary_id, section_idx, idx
);

CREATE TABLE IF NOT EXISTS topic_tags (
    summary_id  VARCHAR NOT NULL,
    video_id    VARCHAR NOT NULL,
    idx         INTEGER NOT NULL,          -- 1..5
    tag         VARCHAR NOT NULL
    -- key: summary_id, idx
);

CREATE TABLE IF NOT EXISTS general_topics (
    summary_id  VARCHAR NOT NULL,
    video_id    VARCHAR NOT NULL,
    idx         INTEGER NOT NULL,          -- 1..3
    name        VARCHAR NOT NULL,
    complexity  DECIMAL(3, 2) NOT NULL
    -- key: summary_id, idx
);

-- Each section's bullets and topics, and each summary's tags and general topics, also kept as lists
-- on the row they belong to, so video_sections and video_overview read one row per section or video
-- instead of grouping every bullet and tag in the catalog (BENCHMARKS.md, catalog at scale). The
-- one-row-per-item tables stay the place to count and join; 008_summary_lists.sql fills the lists.
ALTER TABLE summary_sections ADD COLUMN IF NOT EXISTS bullets VARCHAR[];
ALTER TABLE summary_sections ADD COLUMN IF NOT EXISTS topics VARCHAR[];
ALTER TABLE summaries ADD COLUMN IF NOT EXISTS topics VARCHAR[];
ALTER TABLE summaries ADD COLUMN IF NOT EXISTS general_topics VARCHAR[];  -- 'Name (0.87)', in order
-- Whether this is the video's newest summary (latest_summaries), kept by 008 rather than found by a
-- window over every summary on each query.
ALTER TABLE summaries ADD COLUMN IF NOT EXISTS is_latest BOOLEAN;
