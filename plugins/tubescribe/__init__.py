"""tubescribe: turn video channels into a DuckDB catalog of transcripts, summaries and topics."""

__version__ = "0.1.0"
