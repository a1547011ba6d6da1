-- Replace summaries ($rows, JSON; each keyed by video, backend, model and prompt version) and all of
-- their parts (JSON lists), by delete then insert. Lists of objects keep positions explicit.
DELETE FROM summary_sections WHERE summary_id IN (SELECT unnest($summary_ids));
DELETE FROM section_bullets WHERE summary_id IN (SELECT unnest($summary_ids));
DELETE FROM section_topics WHERE summary_id IN (SELECT unnest($summary_ids));
DELETE FROM topic_tags WHERE summary_id IN (SELECT unnest($summary_ids));
DELETE FROM general_topics WHERE summary_id IN (SELECT unnest($summary_ids));
DELETE FROM summaries WHERE summary_id IN (SELECT unnest($summary_ids));
-- The derived columns start NULL: load/summary_lists.sql fills them once the parts are written.
INSERT INTO summaries (summary_id, video_id, backend, model, prompt_version, summary_json,
                       introduction, tokens_in, tokens_out, latency_s, created_at, transcript_key,
                       topics, general_topics, is_latest)
SELECT r.summary_id, r.video_id, r.backend, r.model, r.prompt_version, r.summary_json,
       r.introduction, r.tokens_in, r.tokens_out, r.latency_s, r.created_at, r.transcript_key, NULL, NULL, NULL
FROM (SELECT unnest(CAST(json($rows) AS STRUCT(
        summary_id VARCHAR, video_id VARCHAR, backend VARCHAR, model VARCHAR, prompt_version VARCHAR,
        summary_json VARCHAR, introduction VARCHAR, tokens_in BIGINT, tokens_out BIGINT,
        latency_s DOUBLE, created_at TIMESTAMPTZ, transcript_key VARCHAR
     )[]), recursive := true)) r;
INSERT INTO summary_sections (summary_id, video_id, idx, title, start_s, end_s)
SELECT s.summary_id, s.video_id, s.idx, s.title, s.start_s, s.end_s
FROM (SELECT unnest(CAST(json($sections) AS STRUCT(
        summary_id VARCHAR, video_id VARCHAR, idx INTEGER, title VARCHAR, start_s DOUBLE, end_s DOUBLE
     )[]), recursive := true)) s;
INSERT INTO section_bullets (summary_id, video_id, section_idx, idx, text)
SELECT b.summary_id, b.video_id, b.section_idx, b.idx, b.text
FROM (SELECT unnest(CAST(json($bullets) AS STRUCT(
        summary_id VARCHAR, video_id VARCHAR, section_idx INTEGER, idx INTEGER, text VARCHAR
     )[]), recursive := true)) b;
INSERT INTO section_topics (summary_id, video_id, section_idx, idx, topic)
SELECT t.summary_id, t.video_id, t.section_idx, t.idx, t.text
FROM (SELECT unnest(CAST(json($section_topics) AS STRUCT(
        summary_id VARCHAR, video_id VARCHAR, section_idx INTEGER, idx INTEGER, text VARCHAR
     )[]), recursive := true)) t;
INSERT INTO topic_tags (summary_id, video_id, idx, tag, tag_normalized)
SELECT t.summary_id, t.video_id, t.idx, t.text, t.normalized
FROM (SELECT unnest(CAST(json($tags) AS STRUCT(
        summary_id VARCHAR, video_id VARCHAR, idx INTEGER, text VARCHAR, normalized VARCHAR
     )[]), recursive := true)) t;
INSERT INTO general_topics (summary_id, video_id, idx, name, complexity)
SELECT g.summary_id, g.video_id, g.idx, g.name, CAST(g.complexity AS DECIMAL(3, 2))
FROM (SELECT unnest(CAST(json($general_topics) AS STRUCT(
        summary_id VARCHAR, video_id VARCHAR, idx INTEGER, name VARCHAR, complexity VARCHAR
     )[]), recursive := true)) g;
