-- Called after delete_segments in the same transaction; lists are unnested into one row per segment.
INSERT INTO segments (video_id, idx, start_s, end_s, text)
SELECT $video_id, unnest($idx), unnest($start_s), unnest($end_s), unnest($text);
