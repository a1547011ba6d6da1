-- One summary's parts, each list unnested into rows. Lists of structs keep positions explicit.
INSERT INTO summary_sections
SELECT $summary_id, $video_id, s.idx, s.title, s.start_s, s.end_s FROM (SELECT unnest($sections, recursive := true)) s;
INSERT INTO section_bullets
SELECT $summary_id, $video_id, b.section_idx, b.idx, b.text FROM (SELECT unnest($bullets, recursive := true)) b;
INSERT INTO section_topics
SELECT $summary_id, $video_id, t.section_idx, t.idx, t.text FROM (SELECT unnest($section_topics, recursive := true)) t;
INSERT INTO topic_tags (summary_id, video_id, idx, tag, tag_normalized)
SELECT $summary_id, $video_id, t.idx, t.text, t.normalized FROM (SELECT unnest($tags, recursive := true)) t;
INSERT INTO general_topics
SELECT $summary_id, $video_id, g.idx, g.name, CAST(g.complexity AS DECIMAL(3, 2)) FROM (SELECT unnest($general_topics, recursive := true)) g;
