-- Each channel's general-topic mix: share of its videos per field and how hard they are on average.
-- tubescribe query --file sql/analytics/channel_profile.sql
SELECT channel, general_topic, videos, share, mean_complexity
FROM channel_general_topics
ORDER BY channel, videos DESC, general_topic;
