"""Typed records passed between stages and written as artifacts under $TUBESCRIBE_HOME."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, field_validator

from tubescribe.contract import Summary

# Video ids become file names, so they are restricted to a safe alphabet (YouTube's own).
VIDEO_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,80}")


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Video(Record):
    """One video as listed by its channel or feed."""

    video_id: str
    title: str
    url: str
    channel_id: str
    channel_title: str
    channel_url: str
    published_at: datetime | None = None
    duration_s: float | None = None
    extractor: str = "generic"
    live_status: str | None = None  # yt-dlp's: is_live, is_upcoming, was_live, post_live, not_live

    @field_validator("video_id")
    @classmethod
    def _safe_id(cls, value: str) -> str:
        if not VIDEO_ID_RE.fullmatch(value):
            raise ValueError(f"video id {value!r} may only hold letters, digits, '_' and '-'")
        return value


class Segment(Record):
    """A stretch of speech with its time span in seconds from the start of the video."""

    idx: int
    start_s: float
    end_s: float
    text: str


class Transcript(Record):
    """What faster-whisper heard in one video."""

    video_id: str
    language: str
    language_probability: float
    audio_duration_s: float
    model: str
    settings_key: str
    segments: tuple[Segment, ...]
    transcribed_at: datetime
    elapsed_s: float

    @property
    def text(self) -> str:
        return " ".join(segment.text for segment in self.segments).strip()


class SectionSpan(Record):
    """Where in the video a summary section starts and ends (seconds), when known."""

    start_s: float | None = None
    end_s: float | None = None


class SummaryRecord(Record):
    """A validated summary with how it was made."""

    video_id: str
    backend: str
    model: str
    prompt_version: str
    summary: Summary
    raw_json: str
    section_spans: tuple[SectionSpan, ...] = ()
    created_at: datetime
    tokens_in: int | None = None
    tokens_out: int | None = None
    latency_s: float | None = None


class Failure(Record):
    """Why a video stopped at a stage; cleared when the stage later succeeds."""

    video_id: str
    stage: str
    kind: str  # errors.Kind: permanent, deferred, transient or blocked
    error_class: str
    message: str
    at: datetime


class RunSkips(Record):
    """The channels a run could not list, and why (a block, a dead URL): the run's report fails on them."""

    run_id: str
    skipped: list[str]


class StageRun(Record):
    """How long one stage took for one video in one run (written to the catalog's `stage_runs`)."""

    video_id: str
    stage: str
    run_id: str
    started_at: datetime
    seconds: float
    status: str  # done or failed
    audio_s: float | None = None
    model: str | None = None
