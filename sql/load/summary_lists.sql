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
UPDATE summary_sections x SET
    bullets = coalesce((SELECT list(b.text ORDER BY b.idx) FROM section_bullets b
                        WHERE b.summary_id = x.summary_id AND b.section_idx = x.idx), []),
    topics = coalesce((SELECT list(t.topic ORDER BY t.idx) FROM section_topics t
                       WHERE t.summary_id = x.summary_id AND t.section_idx = x.idx), [])
WHERE x.summary_id IN (SELECT unnest($summary_ids));
UPDATE summaries s SET
    topics = coalesce((SELECT list(t.tag ORDER BY t.idx) FROM topic_tags t WHERE t.summary_id = s.summary_id), []),
    general_topics = coalesce((SELECT list(g.name || ' (' || CAST(g.complexity AS VARCHAR) || ')' ORDER BY g.idx)
                               FROM general_topics g WHERE g.summary_id = s.summary_id), [])
WHERE s.summary_id IN (SELECT unnest($summary_ids));
