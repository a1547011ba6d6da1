-- Views over the newest summary of each video: what analysts query by default.
-- Older summaries (another model or prompt version) stay in the tables.

CREATE OR REPLACE VIEW latest_summaries AS
SELECT * EXCLUDE (is_latest) FROM summaries WHERE is_latest;

CREATE OR REPLACE VIEW video_tags AS
SELECT t.video_id, t.idx, t.tag
FROM topic_tags t JOIN latest_summaries s USING (summary_id);

CREATE OR REPLACE VIEW video_general_topics AS
SELECT g.video_id, g.idx, g.name, g.complexity
FROM general_topics g JOIN latest_summaries s USING (summary_id);

CREATE OR REPLACE VIEW video_sections AS
SELECT x.video_id, x.idx, x.title, x.start_s, x.end_s, x.bullets, x.topics
FROM summary_sections x JOIN latest_summaries s USING (summary_id);

CREATE OR REPLACE VIEW video_overview AS
SELECT v.video_id, c.title AS channel, v.title, v.url, v.published_at, v.duration_s, v.status,
       v.failed_stage, v.error_message, s.introduction, s.topics, s.general_topics,
       s.backend AS summary_backend, s.model AS summary_model
FROM videos v
LEFT JOIN channels c USING (channel_id)
LEFT JOIN latest_summaries s USING (video_id);
