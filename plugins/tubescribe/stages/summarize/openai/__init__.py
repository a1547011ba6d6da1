"""The summarizer for any OpenAI-compatible server: the request and its prompt (prompt.py), long transcripts
in parts and their time spans (spans.py)."""
