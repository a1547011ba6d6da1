"""The offline summarizer: extractive and deterministic (summarizer.py), with its word lists (lexicon.py,
fields.py)."""
