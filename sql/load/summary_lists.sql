-- The derived columns (sql/schema/001_tables.sql) of the summaries just written ($summary_ids), from
-- the parts written with them; run by load.write_batch in the load's transaction. Migration
-- 008_summary_lists.sql filled them once for summaries loaded before the columns existed.

-- The newest summary of a video is the one created last (the smallest id on a tie); every summary of
-- a video that gained one is decided again.
UPDATE summaries s SET is_latest = (s.summary_id = n.summary_id)
FROM (SELECT video_id, first(summary_id ORDER BY created_at DESC, summary_id) AS summary_id FROM summaries
      WHERE video_id IN (SELECT video_id FROM summaries WHERE summary_id IN (SELECT unnest($summary_ids)))
      GROUP BY video_id) n
WHERE s.video_id = n.video_id;
-- The lists are gathered from this load's rows only, then joined: correlated subqueries over the
-- child tables would aggregate every summary's bullets first (32 s per load at 1M videos).
UPDATE summary_sections x SET bullets = coalesce(n.bullets, []), topics = coalesce(n.topics, [])
FROM (
    SELECT s.summary_id, s.idx, b.bullets, t.topics
    FROM (SELECT summary_id, idx FROM summary_sections WHERE summary_id IN (SELECT unnest($summary_ids))) s
    LEFT JOIN (SELECT summary_id, section_idx, list(text ORDER BY idx) AS bullets FROM section_bullets
               WHERE summary_id IN (SELECT unnest($summary_ids)) GROUP BY summary_id, section_idx) b
           ON b.summary_id = s.summary_id AND b.section_idx = s.idx
    LEFT JOIN (SELECT summary_id, section_idx, list(topic ORDER BY idx) AS topics FROM section_topics
               WHERE summary_id IN (SELECT unnest($summary_ids)) GROUP BY summary_id, section_idx) t
           ON t.summary_id = s.summary_id AND t.section_idx = s.idx
) n
WHERE x.summary_id = n.summary_id AND x.idx = n.idx AND x.summary_id IN (SELECT unnest($summary_ids));
UPDATE summaries s SET topics = coalesce(n.topics, []), general_topics = coalesce(n.general_topics, [])
FROM (
    SELECT i.summary_id, t.topics, g.general_topics
    FROM (SELECT unnest($summary_ids) AS summary_id) i
    LEFT JOIN (SELECT summary_id, list(tag ORDER BY idx) AS topics FROM topic_tags
               WHERE summary_id IN (SELECT unnest($summary_ids)) GROUP BY summary_id) t
           ON t.summary_id = i.summary_id
    LEFT JOIN (SELECT summary_id, list(name || ' (' || CAST(complexity AS VARCHAR) || ')' ORDER BY idx) AS general_topics
               FROM general_topics WHERE summary_id IN (SELECT unnest($summary_ids)) GROUP BY summary_id) g
           ON g.summary_id = i.summary_id
) n
WHERE s.summary_id = n.summary_id AND s.summary_id IN (SELECT unnest($summary_ids));
