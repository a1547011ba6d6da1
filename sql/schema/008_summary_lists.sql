-- Fill the derived columns (001_tables.sql) of summaries where they are still NULL: summaries loaded
-- before the columns existed. A migration, so it runs once; each load fills its own summaries'
-- columns with sql/load/summary_lists.sql.

-- The newest summary of a video is the one created last (the smallest id on a tie); a new summary
-- (is_latest NULL) has every summary of its video decided again.
UPDATE summaries s SET is_latest = (s.summary_id = n.summary_id)
FROM (SELECT video_id, first(summary_id ORDER BY created_at DESC, summary_id) AS summary_id FROM summaries
      WHERE video_id IN (SELECT video_id FROM summaries WHERE is_latest IS NULL) GROUP BY video_id) n
WHERE s.video_id = n.video_id;
UPDATE summary_sections x SET
    bullets = coalesce((SELECT list(b.text ORDER BY b.idx) FROM section_bullets b
                        WHERE b.summary_id = x.summary_id AND b.section_idx = x.idx), []),
    topics = coalesce((SELECT list(t.topic ORDER BY t.idx) FROM section_topics t
                       WHERE t.summary_id = x.summary_id AND t.section_idx = x.idx), [])
WHERE x.bullets IS NULL;
UPDATE summaries s SET
    topics = coalesce((SELECT list(t.tag ORDER BY t.idx) FROM topic_tags t WHERE t.summary_id = s.summary_id), []),
    general_topics = coalesce((SELECT list(g.name || ' (' || CAST(g.complexity AS VARCHAR) || ')' ORDER BY g.idx)
                               FROM general_topics g WHERE g.summary_id = s.summary_id), [])
WHERE s.topics IS NULL;
