-- Views for analysts, over the newest summary of each video (see docs/catalog.md). Months and weeks
-- are cut in UTC, whatever the session's time zone, so the same catalog gives the same answer anywhere.
-- Topic counts use tag_normalized (plugins/tubescribe/topics.py), so spellings of one topic add up.

-- Replaces 002's definition to carry the normalized tag (002 runs before 003 adds the column).
CREATE OR REPLACE VIEW video_tags AS
SELECT t.video_id, t.idx, t.tag, coalesce(t.tag_normalized, lower(trim(t.tag))) AS tag_normalized
FROM topic_tags t JOIN latest_summaries s USING (summary_id);

-- How many videos carry each (normalized) topic, per publication month.
CREATE OR REPLACE VIEW topic_frequency_by_month AS
WITH months AS (  -- each video's month computed once, not once per tag: 178 -> 141 ms at 100k videos
    SELECT video_id, CAST(date_trunc('month', timezone('UTC', published_at)) AS DATE) AS month FROM videos
)
SELECT m.month,
       t.tag_normalized AS topic,
       count(DISTINCT t.video_id) AS videos,
       list(DISTINCT t.tag ORDER BY t.tag) AS spellings
FROM video_tags t JOIN months m USING (video_id)
GROUP BY ALL;

-- Each channel's mix of the twelve general topics: how many of its summarized videos touch each
-- field, that as a share, and how hard those videos are on average.
CREATE OR REPLACE VIEW channel_general_topics AS
WITH summarized AS (
    SELECT v.channel_id, count(*) AS n
    FROM latest_summaries s JOIN videos v USING (video_id)
    GROUP BY v.channel_id
)
SELECT v.channel_id, c.title AS channel, g.name AS general_topic,
       count(*) AS videos,
       round(count(*) / any_value(s.n), 3) AS share,
       round(avg(g.complexity), 2) AS mean_complexity
FROM video_general_topics g
JOIN videos v USING (video_id)
JOIN summarized s USING (channel_id)
LEFT JOIN channels c USING (channel_id)
GROUP BY v.channel_id, c.title, g.name;

-- One row per channel: its videos by status, publication span, audio, and mean complexity.
CREATE OR REPLACE VIEW channel_overview AS
WITH per_channel AS (
    SELECT v.channel_id,
           count(*) AS videos,
           count(*) FILTER (WHERE v.status = 'loaded') AS loaded,
           count(*) FILTER (WHERE v.status = 'failed') AS failed,
           count(*) FILTER (WHERE v.status = 'pending') AS pending,
           min(v.published_at) AS first_published_at,
           max(v.published_at) AS last_published_at,
           round(sum(t.audio_duration_s) / 3600, 3) AS audio_hours
    FROM videos v LEFT JOIN transcripts t USING (video_id)
    GROUP BY v.channel_id
),
complexity AS (
    SELECT v.channel_id, round(avg(g.complexity), 2) AS mean_complexity
    FROM video_general_topics g JOIN videos v USING (video_id)
    GROUP BY v.channel_id
)
SELECT c.channel_id, c.title AS channel, c.url, c.extractor,
       coalesce(p.videos, 0) AS videos, coalesce(p.loaded, 0) AS loaded, coalesce(p.failed, 0) AS failed,
       coalesce(p.pending, 0) AS pending, p.first_published_at, p.last_published_at, p.audio_hours,
       x.mean_complexity
FROM channels c
LEFT JOIN per_channel p USING (channel_id)
LEFT JOIN complexity x USING (channel_id);

-- New videos per channel per ISO week (weeks start on Monday); undated videos are left out.
CREATE OR REPLACE VIEW new_videos_per_week AS
SELECT CAST(date_trunc('week', timezone('UTC', v.published_at)) AS DATE) AS week,
       v.channel_id, c.title AS channel, count(*) AS videos
FROM videos v LEFT JOIN channels c USING (channel_id)
WHERE v.published_at IS NOT NULL
GROUP BY ALL;

-- What processing each video took: audio length, transcription time and speed (audio seconds per
-- wall second), and its newest summary's model, tokens and latency.
CREATE OR REPLACE VIEW video_processing AS
SELECT v.video_id, v.channel_id, v.status,
       t.audio_duration_s AS audio_s,
       t.elapsed_s AS transcription_s,
       round(t.audio_duration_s / nullif(t.elapsed_s, 0), 2) AS transcription_speed,
       t.model AS whisper_model,
       s.backend AS summary_backend, s.model AS summary_model,
       s.tokens_in, s.tokens_out, s.latency_s AS summary_s
FROM videos v
LEFT JOIN transcripts t USING (video_id)
LEFT JOIN latest_summaries s USING (video_id);

-- Processing totals per channel, plus one row for all channels (channel_id NULL). Tokens and
-- summary time count every summary ever made (older models included): that is what was spent.
CREATE OR REPLACE VIEW processing_stats AS
WITH spent AS (
    SELECT video_id, count(*) AS summaries, sum(tokens_in) AS tokens_in, sum(tokens_out) AS tokens_out,
           sum(latency_s) AS latency_s
    FROM summaries GROUP BY video_id
)
SELECT v.channel_id,
       CASE WHEN grouping(v.channel_id) = 1 THEN '(all channels)' ELSE any_value(c.title) END AS channel,
       count(v.video_id) AS videos,
       count(t.video_id) AS transcribed,
       round(coalesce(sum(t.audio_duration_s), 0) / 3600, 3) AS audio_hours,
       round(coalesce(sum(t.elapsed_s), 0) / 3600, 3) AS transcription_hours,
       round(sum(t.audio_duration_s) / nullif(sum(t.elapsed_s), 0), 2) AS transcription_speed,
       CAST(coalesce(sum(sp.summaries), 0) AS BIGINT) AS summaries,
       CAST(coalesce(sum(sp.tokens_in), 0) AS BIGINT) AS llm_tokens_in,
       CAST(coalesce(sum(sp.tokens_out), 0) AS BIGINT) AS llm_tokens_out,
       round(coalesce(sum(sp.latency_s), 0) / 3600, 3) AS summary_hours
FROM videos v
LEFT JOIN channels c USING (channel_id)
LEFT JOIN transcripts t USING (video_id)
LEFT JOIN spent sp USING (video_id)
GROUP BY GROUPING SETS ((v.channel_id), ());
