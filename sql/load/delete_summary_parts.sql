DELETE FROM summary_sections WHERE summary_id = $summary_id;
DELETE FROM section_bullets WHERE summary_id = $summary_id;
DELETE FROM section_topics WHERE summary_id = $summary_id;
DELETE FROM topic_tags WHERE summary_id = $summary_id;
DELETE FROM general_topics WHERE summary_id = $summary_id;
