"""Summarize stage: turn a transcript into a summary that follows the contract.

Backends share one small interface (base.py) so a test can swap in a scripted one; `local` (offline,
deterministic) is the default and `openai` talks to any OpenAI-compatible server.
"""

from __future__ import annotations

from tubescribe.settings import Settings
from tubescribe.stages.summarize.base import SummarizeError, Summarizer, summary_key

__all__ = ["SummarizeError", "Summarizer", "get_summarizer", "summary_key"]


def get_summarizer(settings: Settings) -> Summarizer:
    """The summarizer the settings ask for."""
    if settings.summarizer == "openai":
        from tubescribe.stages.summarize.openai.summarizer import OpenAISummarizer

        return OpenAISummarizer(settings)
    from tubescribe.stages.summarize.local.summarizer import LocalSummarizer

    return LocalSummarizer()
