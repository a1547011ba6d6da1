-- Rename one video's id ($old -> $new) in every catalog table that holds it (see tubescribe/upgrade.py).
-- Summary ids start with the video id ("<video_id>-<hash>"), so they are renamed with it. Rows already
-- under $new (a run with the new ids before this upgrade) win: the old copies are dropped, not doubled.
DELETE FROM videos WHERE video_id = $old AND EXISTS (SELECT 1 FROM videos WHERE video_id = $new);
UPDATE videos SET video_id = $new WHERE video_id = $old;
DELETE FROM transcripts WHERE video_id = $old AND EXISTS (SELECT 1 FROM transcripts WHERE video_id = $new);
UPDATE transcripts SET video_id = $new WHERE video_id = $old;
DELETE FROM segments WHERE video_id = $old AND EXISTS (SELECT 1 FROM segments WHERE video_id = $new);
UPDATE segments SET video_id = $new WHERE video_id = $old;
DELETE FROM stage_runs WHERE video_id = $old AND EXISTS (SELECT 1 FROM stage_runs WHERE video_id = $new);
UPDATE stage_runs SET video_id = $new WHERE video_id = $old;
DELETE FROM search_docs WHERE video_id = $old AND EXISTS (SELECT 1 FROM search_docs WHERE video_id = $new);
UPDATE search_docs SET video_id = $new WHERE video_id = $old;
DELETE FROM summaries WHERE video_id = $old AND EXISTS (SELECT 1 FROM summaries WHERE video_id = $new);
DELETE FROM summary_sections WHERE video_id = $old AND EXISTS (SELECT 1 FROM summary_sections WHERE video_id = $new);
DELETE FROM section_bullets WHERE video_id = $old AND EXISTS (SELECT 1 FROM section_bullets WHERE video_id = $new);
DELETE FROM section_topics WHERE video_id = $old AND EXISTS (SELECT 1 FROM section_topics WHERE video_id = $new);
DELETE FROM topic_tags WHERE video_id = $old AND EXISTS (SELECT 1 FROM topic_tags WHERE video_id = $new);
DELETE FROM general_topics WHERE video_id = $old AND EXISTS (SELECT 1 FROM general_topics WHERE video_id = $new);
UPDATE summaries SET video_id = $new, summary_id = $new || substr(summary_id, length($old) + 1)
WHERE video_id = $old;
UPDATE summary_sections SET video_id = $new, summary_id = $new || substr(summary_id, length($old) + 1)
WHERE video_id = $old;
UPDATE section_bullets SET video_id = $new, summary_id = $new || substr(summary_id, length($old) + 1)
WHERE video_id = $old;
UPDATE section_topics SET video_id = $new, summary_id = $new || substr(summary_id, length($old) + 1)
WHERE video_id = $old;
UPDATE topic_tags SET video_id = $new, summary_id = $new || substr(summary_id, length($old) + 1)
WHERE video_id = $old;
UPDATE general_topics SET video_id = $new, summary_id = $new || substr(summary_id, length($old) + 1)
WHERE video_id = $old;
