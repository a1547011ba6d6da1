"""The offline summarizer: extractive and deterministic (summarizer.py, which documents the method), built from
its words and phrases (phrases.py), sections (sections.py) and general topics (general_topics.py), with its word
lists (lexicon.py, fields.py)."""
