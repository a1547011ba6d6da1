"""What every summarizer backend shares: its interface, its error and the key of its artifacts.

Backends share one small interface so a test can swap in a scripted one; `local` (offline,
deterministic) is the default and `openai` talks to any OpenAI-compatible server.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Protocol

from tubescribe.errors import Kind, TubescribeError
from tubescribe.records import SummaryRecord, Transcript, Video

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


def summary_key(summarizer: Summarizer) -> str:
    """Short stable key for (backend, model, prompt version): one summary artifact per key and video."""
    raw = f"{summarizer.backend}\0{summarizer.model}\0{summarizer.prompt_version}"
    return hashlib.sha256(raw.encode()).hexdigest()[:12]
