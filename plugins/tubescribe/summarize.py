"""Summarize stage: turn a transcript into a summary that follows the contract.

Backends share one small interface so a test can swap in a scripted one; `local` (offline,
deterministic) is the default and `openai` talks to any OpenAI-compatible server.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Protocol

from tubescribe.errors import Kind, TubescribeError
from tubescribe.records import SummaryRecord, Transcript, Video
from tubescribe.settings import Settings

log = logging.getLogger(__name__)


class SummarizeError(TubescribeError):
    """A summary could not be produced; the message says why and what to try. Worth another try unless a
    subclass (or the instance) says otherwise."""

    kind = Kind.TRANSIENT


class Summarizer(Protocol):
    backend: str
    model: str
    prompt_version: str

    def summarize(self, video: Video, transcript: Transcript) -> SummaryRecord: ...


def get_summarizer(settings: Settings) -> Summarizer:
    """The summarizer the settings ask for."""
    if settings.summarizer == "openai":
        from tubescribe.openai_summarizer import OpenAISummarizer

        return OpenAISummarizer(settings)
    from tubescribe.local_summarizer import LocalSummarizer

    return LocalSummarizer()


def summary_key(summarizer: Summarizer) -> str:
    """Short stable key for (backend, model, prompt version): one summary artifact per key and video."""
    raw = f"{summarizer.backend}\0{summarizer.model}\0{summarizer.prompt_version}"
    return hashlib.sha256(raw.encode()).hexdigest()[:12]
