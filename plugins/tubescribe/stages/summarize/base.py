"""What every summarizer backend shares: its interface, its error, its record and the key of its artifacts.

Backends share one small interface so a test can swap in a scripted one; `local` (offline,
deterministic) is the default and `openai` talks to any OpenAI-compatible server.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

from tubescribe.contract import Summary
from tubescribe.errors import Kind, TubescribeError
from tubescribe.records import SectionSpan, SummaryRecord, Transcript, Video

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


def summary_record(
    summarizer: Summarizer,
    video: Video,
    summary: Summary,
    *,
    raw_json: str,
    section_spans: Sequence[SectionSpan],
    latency_s: float,
    tokens_in: int | None = None,
    tokens_out: int | None = None,
) -> SummaryRecord:
    """The record of a summary `summarizer` has just made of `video`, stamped with its name and the time now."""
    return SummaryRecord(
        video_id=video.video_id,
        backend=summarizer.backend,
        model=summarizer.model,
        prompt_version=summarizer.prompt_version,
        summary=summary,
        raw_json=raw_json,
        section_spans=tuple(section_spans),
        created_at=datetime.now(UTC),
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        latency_s=latency_s,
    )
