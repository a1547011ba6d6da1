-- Videos that did not land, grouped by the stage and error that stopped them, with examples.
-- tubescribe query --file sql/analytics/failures.sql
SELECT failed_stage, error_class, count(*) AS videos, list(video_id ORDER BY video_id)[1:5] AS examples,
       any_value(error_message) AS a_message
FROM videos
WHERE status = 'failed'
GROUP BY failed_stage, error_class
ORDER BY videos DESC, failed_stage, error_class;
