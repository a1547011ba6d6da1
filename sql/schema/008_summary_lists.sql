-- Fill the list columns (001_tables.sql) of summaries whose lists are still NULL: those loaded
-- before the columns existed, when the schema is applied, and each new batch, run again by the
-- loader once it has written the parts (load.write_batch). One definition for both.
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
