"""The summarizer for any OpenAI-compatible server: validated summaries and their repair (summarizer.py), one
chat completion with its retries and format negotiation (client.py), which server and key (endpoint.py), the
request and its prompt (prompt.py), long transcripts in parts and their time spans (spans.py)."""
