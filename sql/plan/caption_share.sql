-- Per channel in $channel_ids: how many of its landed videos took their transcript from captions of the
-- kinds the policy accepts ($caption_keys), of how many landed: what a flat listing cannot say per video.
SELECT v.channel_id, count(*) FILTER (list_contains($caption_keys, t.settings_key)) AS captions, count(*) AS landed
FROM videos v
JOIN transcripts t ON t.video_id = v.video_id
WHERE v.status = 'loaded' AND list_contains($channel_ids, v.channel_id)
GROUP BY v.channel_id
ORDER BY v.channel_id;
