"""The offline summarizer: extractive and deterministic, on an embedding model (summarizer.py, which documents
the method), built from its units of speech (units.py), candidate tags (phrases.py), choosing by meaning
(rank.py), sections (sections.py) and general fields (fields.py), with its word lists (lexicon.py)."""
