-- Topic tags also stored in a normalized form, so "LLMs", "Large Language Models" and "llm" count
-- together. The loader fills it (rules: plugins/tubescribe/topics.py); rows loaded before this column
-- existed keep NULL until their video is loaded again, and the views fall back to lower(tag).
ALTER TABLE topic_tags ADD COLUMN IF NOT EXISTS tag_normalized VARCHAR;
